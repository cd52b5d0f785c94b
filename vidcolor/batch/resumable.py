"""The single-file command, resumable: a film longer than one segment is colorized segment by
segment, in this process, into a hidden work folder beside the output (``.NAME.vidcolor``), each
segment committed to its manifest as it is finished, and joined at the end by packet copy. A rerun
of the same command after any interruption colorizes only what is missing.

The segments, their manifest and the join are the batch runner's (``film``, ``manifest``).
"""
from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

from ..errors import Interrupted, Notice, VidcolorError
from ..media.encode import EncodeSettings
from ..media.interlace import Interlace
from ..media.probe import open_input, video_stream
from ..media.timeline import Span
from ..models import Colorizer
from ..models.advice import speed_advice
from ..pipeline import AUTO, Summary, colorize_segment
from ..temporal.reference_files import FilmReferences
from ..progress import Progress
from .film import SegmentedFilm
from .fingerprint import fingerprint
from .manifest import Manifest, dump_settings
from .segments import MIN_SEGMENT_SECONDS, SEGMENT_WORK, Plan, first_segment, plan_segments, segment_frames


def work_folder(dst: Path) -> Path:
    return dst.parent / f".{dst.name}.vidcolor"


def colorize_resumable(src: Path, dst: Path, *, span: Span, settings: EncodeSettings, interlace: Interlace,
                       strength: float, net: Colorizer, options: dict, segment_seconds: float | str, fresh: bool,
                       progress: Progress, audio: str = "auto", provenance: dict | None = None,
                       guide: FilmReferences | None = None) -> Summary | None:
    """Colorize ``src`` into ``dst`` in segments; None where the film (or its part) fits in one
    segment, to be done in one piece. Segments are ``segment_seconds`` of film, or with ``"auto"``
    about ``SEGMENT_WORK`` seconds of work each at the pace of the first (which is
    ``MIN_SEGMENT_SECONDS`` of film): what a crash can cost. ``options`` are those that change the
    output (with ``settings``, ``strength``, the weights file and the references ``guide``, they
    decide whether the work of an earlier run still counts); ``fresh`` discards it anyway."""
    t0 = time.perf_counter()
    key, print_ = str(src.resolve()), fingerprint(src)
    recorded = {**options, "strength": strength, "encode": repr(settings), "interlace": repr(interlace),
                "weights_file": f"{net.weights_path.name}:{fingerprint(net.weights_path)}",
                "segment_seconds": segment_seconds, "references": guide.identity if guide else None}
    identity = f"{print_}|{dump_settings(recorded)}"
    by_work = segment_seconds == AUTO
    with open_input(src) as container:
        stream = video_stream(container, src)
        first = first_segment(stream, strength, MIN_SEGMENT_SECONDS) if by_work else None

        def plan_with(per: int | None) -> Plan:
            return plan_segments(container, stream, src, span, strength, segment_seconds, identity,
                                 guide.times() if guide else None, first, per)

        plan = plan_with(None)
    if len(plan.segments) == 1:
        return None
    folder = work_folder(dst)
    manifest = Manifest(dst.parent, folder=folder.name)
    try:
        _forget_other_runs(manifest, key, dst, print_, recorded, fresh)
        per = manifest.item(key).segment_frames if by_work else None
        if per is not None:
            with open_input(src) as container:
                stream = video_stream(container, src)
                plan = plan_with(per)
        film = SegmentedFilm(manifest, key, plan, manifest.work, settings.codec, carried=guide is not None)
        todo = film.todo()
        n = len(plan.segments)
        if len(todo) < n:
            warnings.warn(f"{dst}: resuming: {n - len(todo)} of {n} segments done (in {folder})", Notice,
                          stacklevel=3)
        manifest.start(key)
        resumed = film.frames
        try:
            with progress.task("frames", src.name, plan.frames, initial=resumed, advice=speed_advice(net)) as task:
                while todo:
                    segment, part = todo.pop(0)
                    started = time.perf_counter()
                    frames, count, cuts, unreached = colorize_segment(
                        src, part, decode=segment.decode, emit=segment.emit, colorizer=net, settings=settings,
                        strength=strength, interlace=interlace, task=task, guide=guide, carry=film.carry(segment),
                        shared=film.shared(segment))
                    if by_work and per is None:  # the first segment's pace sizes the rest, for every later run too
                        per = segment_frames(plan.segments[0].frames, task.event.rate, SEGMENT_WORK)
                        manifest.set_segment_frames(key, per)
                        with open_input(src) as container:
                            stream = video_stream(container, src)
                            plan = plan_with(per)
                        film = SegmentedFilm(manifest, key, plan, manifest.work, settings.codec,
                                             carried=guide is not None)
                        todo = [t for t in film.todo() if t[0].index != segment.index]
                        n = len(plan.segments)
                    film.record(segment.index, frames, count, time.perf_counter() - started, cuts, unreached)
            streams = film.join(src, dst, span, audio, provenance)
        except KeyboardInterrupt as e:
            kept = f"{film.done} of {n} segments are kept in {folder}: run the same command again to resume"
            raise Interrupted(getattr(e, "reason", "interrupted"), getattr(e, "exit_code", 130), kept) from None
        except VidcolorError as e:
            raise type(e)(f"{e}; {film.done} of {n} segments are kept in {folder}: run the same command again "
                          "to resume") from None
        frames = film.frames
        summary = Summary(str(dst), frames, time.perf_counter() - t0, net.model_name, str(net.device),
                          streams.described, streams.dropped, strength, film.cuts,
                          resumed=resumed, provenance=provenance, needs_reference=film.needs_reference)
    finally:
        manifest.close()
    shutil.rmtree(folder, ignore_errors=True)
    return summary


def _forget_other_runs(manifest: Manifest, key: str, dst: Path, print_: str, recorded: dict, fresh: bool) -> None:
    """Start the record afresh where it is of another input, other settings or other weights (or
    ``fresh`` asks for it), telling the user what is discarded."""
    prior, settings = manifest.item(key), dump_settings(recorded)
    if prior is not None and prior.fingerprint == print_ and prior.settings == settings and not fresh:
        return
    done = manifest.segment_progress(prior)[0] if prior is not None else 0
    if done:
        why = "the input changed" if prior.fingerprint != print_ else \
            "the options or the weights changed" if prior.settings != settings else "--fresh"
        warnings.warn(f"{dst}: {why} since the interrupted run: its {done} finished segment(s) are discarded",
                      stacklevel=4)
    manifest.reset(key, dst.name, "video", print_, recorded)
