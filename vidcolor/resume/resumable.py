"""The single-file command, resumable: a film longer than one segment is colorized segment by
segment, in this process, into a hidden work folder beside the output (``.NAME.vidcolor``), each
segment committed to its manifest as it is finished, and joined at the end by packet copy. A rerun
of the same command after any interruption colorizes only what is missing.

The segments, their manifest and the join are the batch runner's too (``film``, ``manifest``).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..errors import Interrupted, VidcolorError
from ..media.encode import EncodeSettings
from ..media.interlace import Interlace
from ..media.probe import open_input, video_stream
from ..media.timeline import Span
from ..models import Colorizer
from ..models.advice import speed_advice
from ..options import AUTO, RunOptions
from ..progress import Progress
from ..run.film import colorize_segment
from ..summary import Summary
from ..temporal.reference_files import FilmReferences
from .film import SegmentedFilm
from .fingerprint import fingerprint, same_settings, work_settings
from .manifest import Manifest, dump_settings
from .segments import MIN_SEGMENT_SECONDS, SEGMENT_WORK, Plan, first_segment, plan_segments, segment_frames


def work_folder(dst: Path) -> Path:
    return dst.parent / f".{dst.name}.vidcolor"


def colorize_resumable(src: Path, dst: Path, options: RunOptions, *, span: Span, settings: EncodeSettings,
                       interlace: Interlace, net: Colorizer, progress: Progress, provenance: dict | None = None,
                       guide: FilmReferences | None = None) -> Summary | None:
    """Colorize ``src`` into ``dst`` in segments; None where the film (or its part) fits in one
    segment, to be done in one piece. Segments are ``segment_seconds`` of film, or with ``"auto"``
    about ``SEGMENT_WORK`` seconds of work each at the pace of the first (which is
    ``MIN_SEGMENT_SECONDS`` of film): what a crash can cost. The work of an earlier run counts
    where it was made with the same ``work_settings``; ``fresh`` discards it anyway. ``settings``:
    the encoder's, resolved for ``dst``."""
    t0 = time.perf_counter()
    key, print_ = str(src.resolve()), fingerprint(src)
    recorded = work_settings(options, references=guide.identity if guide else None, net=net)
    segment_seconds, strength = options.resume.segment_seconds, options.strength
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
        _forget_other_runs(manifest, key, dst, print_, recorded, options.resume.fresh, progress)
        per = manifest.item(key).segment_frames if by_work else None
        if per is not None:
            with open_input(src) as container:
                stream = video_stream(container, src)
                plan = plan_with(per)
        film = SegmentedFilm(manifest, key, plan, manifest.work, settings.codec, carried=guide is not None)
        todo = film.todo()
        n = len(plan.segments)
        if len(todo) < n:
            progress.note(f"{dst}: resuming: {n - len(todo)} of {n} segments done (in {folder})")
        manifest.start(key)
        resumed = film.frames
        try:
            with progress.task("frames", src.name, plan.frames, initial=resumed, advice=speed_advice(net)) as task:
                while todo:
                    segment, part = todo.pop(0)
                    started = time.perf_counter()
                    frames, count, cuts, unreached = colorize_segment(
                        src, part, span=film.run_part(segment, shared=True), colorizer=net, settings=settings,
                        strength=strength, interlace=interlace, task=task, guide=guide)
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
            streams = film.join(src, dst, span, options.audio, provenance)
        except KeyboardInterrupt as e:
            kept = f"{film.done} of {n} segments are kept in {folder}: run the same command again to resume"
            raise Interrupted(getattr(e, "reason", "interrupted"), getattr(e, "exit_code", 130), kept) from None
        except VidcolorError as e:
            raise type(e)(f"{e}; {film.done} of {n} segments are kept in {folder}: run the same command again "
                          "to resume") from None
        frames = film.frames
        summary = Summary(output=str(dst), frames=frames, seconds=time.perf_counter() - t0, model=net.model_name,
                          device=str(net.device), streams_copied=streams.described, streams_dropped=streams.dropped,
                          smooth_strength=strength, scene_cuts=film.cuts, resumed=resumed, provenance=provenance,
                          needs_reference=film.needs_reference)
    finally:
        manifest.close()
    shutil.rmtree(folder, ignore_errors=True)
    return summary


def _forget_other_runs(manifest: Manifest, key: str, dst: Path, print_: str, recorded: dict, fresh: bool,
                       progress: Progress) -> None:
    """Start the record afresh where it is of another input, other settings or other weights (or
    ``fresh`` asks for it), telling the user what is discarded."""
    prior = manifest.item(key)
    same = prior is not None and same_settings(prior.settings, recorded)
    if prior is not None and prior.fingerprint == print_ and same and not fresh:
        return
    done = manifest.segment_progress(prior)[0] if prior is not None else 0
    if done:
        why = "the input changed" if prior.fingerprint != print_ else \
            "the options or the weights changed" if not same else "a fresh start was asked for"
        progress.note(f"{dst}: the interrupted run's {done} finished segment(s) are discarded: {why}", lost=True)
    manifest.reset(key, dst.name, "video", print_, recorded)
