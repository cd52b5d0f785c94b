"""Colorize a video, a still, or a folder of stills: the one implementation behind the CLI and API."""
from __future__ import annotations

import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from . import lab

from .errors import Notice, VidcolorError
from .media.atomic import atomic_output, check_output_path, remove_stale_partials
from .media.decode import decode_frames, deep_color, expected_frames, stream_has_alpha
from .media.encode import EncodeSettings, VideoWriter, output_muxer
from .media.image_meta import read_meta
from .media.images import IMAGE_EXTENSIONS, is_image_path, read_image, write_image
from .media.interlace import PROGRESSIVE, Interlace, detect as detect_interlace
from .media.pixels import frame_from_planes
from .media.probe import frame_rate, open_input, video_stream
from .media.sequence import is_pattern
from .media.streams import StreamPlan, plan_streams
from .media.timeline import Span, make_span, parse_time
from .memory import share_malloc_arenas
from .metrics import Report
from .metrics.video import NEEDS_REFERENCE, time_ranges
from .models import DEFAULT_MODEL, Colorizer
from .models.colorizer import check_model_choice, on_gpu
from .models.advice import speed_advice
from .progress import PICTURE_EVERY, QUIET, Listener, Progress, Task, for_run
from .provenance import record, sha256_file
from .stages import BackgroundSink, Workers, prefetch
from .temporal import DEFAULT_STRENGTH, ChromaSmoother, MotionTracker, Smoothed
from .temporal.motion import FlowsAhead
from .temporal.color_shots import COLOR_SCORE, ColorShots, chroma_score
from .temporal.flow import FLOW_SIZE
from .temporal.hints import read_hints
from .temporal.reference_files import Carry, FilmReferences, check_references, film_references, identity
from .temporal.references import ChromaGuide
from .temporal.smoother import window

VIDEO_ONLY_OPTIONS = ("codec", "crf", "pix_fmt", "preset", "encoder_preset", "start", "duration", "smooth_strength",
                      "deinterlace", "fps", "report", "segment_seconds", "fresh", "audio", "references", "hints")
# A film is colorized in segments, each kept as it is done: a rerun after an interruption resumes
# from the last one (vidcolor.batch.resumable). AUTO: each segment about a minute of work at the
# pace measured on the first (vidcolor.batch.segments); a number: seconds of film.
AUTO = "auto"
SEGMENT_SECONDS = AUTO
EDIT_LIST_SLACK = 2
# Frames each queue between stages may hold: enough to absorb the bursts of the smoother
# (it releases a window's worth after a cut) and of the encoder, so the network never idles;
# fewer of very large frames, so that what waits in a queue stays under QUEUE_BYTES.
QUEUE_FRAMES = 8
QUEUE_BYTES = 1 << 30
BYTES_PER_WAITING_PIXEL = 3 + 4  # the decoded RGB until it is prepared, then the float lightness
STILLS_OPTIONS = ("skip_color",)  # beside the model's: what a still takes too
MODEL_OPTIONS = ("model", "weights", "device", "input_size", "batch_size", "precision", "parity", "workers",
                 "lab_on_device", "channels_last", "smooth_on_device")


@dataclass(frozen=True)
class SharedColors:
    """The network's colors of the frames two neighbouring segments both decode, computed once:
    a segment saves those of its frames from ``save_from`` on (seconds on the input's clock) to
    ``save``, and the next reads them from its ``load`` instead of running the network again."""

    load: Path | None = None
    save: Path | None = None
    save_from: Fraction | None = None


@dataclass
class Summary:
    """What a run did; returned by the API and printed by the CLI."""

    output: str
    frames: int
    seconds: float
    model: str
    device: str
    streams_copied: list[str] = field(default_factory=list)
    streams_dropped: list[str] = field(default_factory=list)
    smooth_strength: float = 0.0
    scene_cuts: list[float] = field(default_factory=list)  # seconds on the output's clock
    frames_kept: int = 0  # frames of shots already in color, left as they were (skip_color)
    report: str | None = None
    resumed: int = 0  # frames of segments an earlier, interrupted run finished
    provenance: dict | None = None  # how the output was made, as its tags say (vidcolor.provenance)
    # With references: [first, last] runs of frames (seconds on the output's clock) whose pixels
    # they hold less than half of: where another keyframe would help.
    needs_reference: list[list[float]] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames this run made, a second."""
        return (self.frames - self.resumed) / self.seconds if self.seconds > 0 else 0.0


def make_colorizer(colorizer: Colorizer | None = None, *, progress: Progress = QUIET, **options) -> Colorizer:
    """The caller's Colorizer, or one built from the CLI-style model options (a step of its own
    in ``progress``: loading a large model takes seconds)."""
    if colorizer is not None:
        return colorizer
    kwargs = {k: options[k] for k in MODEL_OPTIONS if options.get(k) is not None}
    name = Path(kwargs["weights"]).name if kwargs.get("weights") else kwargs.get("model") or DEFAULT_MODEL
    with progress.task("load", f"loading model {name}", unit=""):
        return Colorizer(progress=progress, **kwargs)


def colorize_video(src, dst, *, colorizer: Colorizer | None = None, preset: str | None = None,
                   codec: str | None = None, crf: int | None = None, pix_fmt: str | None = None,
                   encoder_preset: str | None = None, start=None, duration=None,
                   smooth_strength: float | None = None, deinterlace: str = "auto", fps: float | None = None,
                   skip_color: bool = False, report=None, overwrite: bool = False, quiet: bool = False,
                   segment_seconds: float | str | None = SEGMENT_SECONDS, fresh: bool = False, audio: str = "auto",
                   references=None, hints=None, on_progress: Listener | None = None, **model_options) -> Summary:
    """Colorize the video ``src`` into ``dst``; every audio and subtitle stream is copied untouched.

    ``preset`` is an output recipe: ``web`` (the default), ``archive``, ``master`` or ``preview``
    (see ``vidcolor.media.presets``); ``codec``, ``crf`` and ``pix_fmt`` override its choices.
    ``deinterlace``: ``auto`` (interlaced sources are detected and deinterlaced, with a notice),
    ``on`` or ``off``. ``src`` may be an image sequence, a printf pattern (``scans/%06d.dpx``) or a
    folder of frames, read at ``fps`` frames per second (24 by default).

    ``skip_color``: shots already in color (``temporal.color_shots``) are left as they are, and
    only the black-and-white ones are colorized; by default every frame is colorized.

    ``audio``: ``auto`` copies each audio stream where the output's container holds it and
    re-encodes it where not (losslessly where the container has a lossless codec: FLAC in
    Matroska, ALAC in QuickTime and MP4), ``copy`` never re-encodes (what cannot be held is
    left out, with a warning), an encoder's name (``flac``, ``aac``, ...) re-encodes every one.

    The color is smoothed over time along the input's motion (``smooth_strength`` from 0, off,
    to 1; ``None`` is the default, and off in parity mode, which promises the official per-frame
    colors). ``report`` names a JSON file for the temporal-quality metrics of the unsmoothed and
    smoothed color, the scene cuts, and the frames where the flow was not trusted.

    A film is colorized in segments kept in a hidden folder beside ``dst`` until it is joined: the
    same call after an interruption (a crash, SIGKILL, Ctrl-C, a full disk) colorizes only what is
    missing. ``segment_seconds``: ``"auto"`` (about a minute of work each, at the pace measured on
    the first, never under two seconds of film), seconds of film, or None (one piece). Work of
    another input, other options or other weights is discarded, and ``fresh`` discards it anyway.

    ``references``: colors the film must follow (``vidcolor.temporal.references``): folders of
    keyframes named by frame number or timecode, ``FILE@TIME`` strings, or a dict
    ``{frame number: image or file}``, frames counted from the first picture. ``hints``: a JSON
    file of color points and strokes (``vidcolor.temporal.hints``).

    Progress goes to bars on stderr (unless ``quiet``) and to ``on_progress``, a callable given
    each ``vidcolor.progress.Event`` (frames done of the total, the pace, an estimate of the time
    left, notes), from the calling thread.
    """
    src, dst = Path(src), Path(dst)
    _check_options(model_options)
    progress = for_run(quiet, on_progress)
    check_output_path(src, dst, overwrite)
    check_segment_seconds(segment_seconds)
    remove_stale_partials(dst)
    if report is not None:
        check_output_path(src, report, overwrite)
        if Path(report).resolve() == dst.resolve():
            raise VidcolorError(f"{report}: the report and the video cannot be the same file")
    parity = colorizer.parity if colorizer is not None else bool(model_options.get("parity"))
    strength = smoothing_strength(smooth_strength, parity)
    start_s, duration_s = parse_time(start, "--start"), parse_time(duration, "--duration")
    if duration_s == 0:
        raise VidcolorError("--duration must be more than 0")
    gpu = colorizer.device.type == "cuda" if colorizer is not None else on_gpu(model_options.get("device"))
    settings = EncodeSettings(codec=codec, crf=crf, pix_fmt=pix_fmt, preset=preset, encoder_preset=encoder_preset,
                              keep_up=gpu)
    # Without smoothing the motion is only followed when a report asks for it.
    smoothing = strength if strength or report is not None else None
    t0 = time.perf_counter()

    made: dict = {}

    def provenance_of(net: Colorizer) -> dict:
        """How the output is made (once the model and the output's settings are known)."""
        if not made:
            made.update(record(src, net.model_name, net.weights_path, {
                **net_settings(net), "codec": settings.codec, "pix_fmt": settings.pix_fmt, "crf": crf,
                "preset": settings.preset, "encoder_preset": encoder_preset, "smooth_strength": strength,
                "start": start_s, "duration": duration_s, "skip_color": skip_color, "fps": fps,
                "deinterlace": interlace.reason if interlace.field_order else None,
                "references": guide.identity if guide else None}))
        return made

    def make_report(net: Colorizer) -> Report | None:
        return None if report is None else Report(
            ("unsmoothed", "smoothed") if strength else ("unsmoothed",), input=str(src), output=str(dst),
            model=net.model_name, input_size=net.input_size, smooth_strength=strength, flow_size=FLOW_SIZE,
            provenance=provenance_of(net))

    sequence = is_pattern(src) or src.is_dir()
    if fps is not None and not sequence:
        raise VidcolorError(f"{src}: --fps is for image sequences; a video file keeps its own timing")
    with open_input(src, fps) as container:
        stream = video_stream(container, src)
        span = make_span(container, stream, src, start_s, duration_s)
        total = expected_frames(stream, container, span)
        # Refuse what cannot be written before anything is read or decoded.
        cc = stream.codec_context
        settings, notes = settings.resolve(output_muxer(dst), dst, cc.width, cc.height, stream_has_alpha(stream))
        for note, category in notes:
            warnings.warn(f"{dst}: {note}", category, stacklevel=2)
        plan = None if sequence else plan_streams(container, stream, settings.muxer, audio)  # scans: the video alone
        for note in plan.warnings(src, dst) if plan else ():
            warnings.warn(note, stacklevel=2)
        interlace = PROGRESSIVE if sequence else interlace_of(src, deinterlace)  # scans are whole frames
        total = None if total is None else interlace.output_frames(total)
        guide = film_references(src, container, stream, references, hints, interlace) if references or hints else None
        step = frame_step(stream, interlace)
        net = None
        from .batch.segments import MIN_SEGMENT_SECONDS, SEGMENT_WORK

        shortest = MIN_SEGMENT_SECONDS if segment_seconds == AUTO else segment_seconds
        if segment_seconds is not None and _longer_than(container, stream, span, shortest):
            from .batch.film import one_piece_reason
            from .batch.resumable import colorize_resumable

            why = one_piece_reason(codec=settings.codec, skip_color=skip_color, interlace=interlace,
                                   report=report is not None, sequence=sequence)
            if why is None:
                net = make_colorizer(colorizer, progress=progress, **model_options)
                recorded = {**net_settings(net), "model": net.model_name, "start": start_s, "duration": duration_s,
                            "audio": audio}
                summary = colorize_resumable(src, dst, span=span, settings=settings, interlace=interlace,
                                             strength=strength, net=net, options=recorded,
                                             segment_seconds=segment_seconds, fresh=fresh, progress=progress,
                                             audio=audio, provenance=provenance_of(net), guide=guide)
                if summary is not None:
                    return summary
            elif not quiet and (segment_seconds != AUTO or _longer_than(container, stream, span, SEGMENT_WORK)):
                warnings.warn(f"{dst}: this run is done in one piece and cannot resume if interrupted: {why}",
                              Notice, stacklevel=2)
        with atomic_output(dst) as tmp:
            run = _encode(src, dst, tmp, container, stream, settings, span, None, smoothing,
                          lambda: net or make_colorizer(colorizer, progress=progress, **model_options), make_report,
                          total, plan=plan, progress=progress, interlace=interlace, skip_color=skip_color,
                          make_provenance=provenance_of, guide=guide)
            if run.count == 0:
                raise VidcolorError(f"{src}: no video frames" + ("" if span.whole else
                                                                 f" in the requested part ({span.where()})"))
            # Edit lists may legitimately hide a couple of the announced frames; more is damage.
            announced = interlace.output_frames(stream.frames)
            if span.whole and announced and run.count < announced - EDIT_LIST_SLACK:
                raise VidcolorError(f"{src}: truncated or damaged: decoded {run.count} of the {announced} frames it "
                                    "announces" + (" (after inverse telecine)" if announced != stream.frames else ""))
    if run.report is not None:
        run.report.write(report)
    return Summary(str(dst), run.count, time.perf_counter() - t0, run.net.model_name, str(run.net.device),
                   run.writer.copied, run.writer.dropped, strength, run.cuts, run.kept,
                   None if report is None else str(report), provenance=made,
                   needs_reference=time_ranges(run.unreached, step))


def check_segment_seconds(value) -> None:
    """``segment_seconds`` is None, "auto", or a finite number of seconds over 0."""
    if value is not None and value != AUTO:
        from .batch.segments import film_seconds

        film_seconds(value, "auto or ")


def frame_step(stream, interlace: Interlace = PROGRESSIVE) -> float:
    """Seconds between the output's frames (at its nominal rate)."""
    return float(1 / (interlace.output_rate(frame_rate(stream)) or 25))


def _longer_than(container, stream, span: Span, seconds: float) -> bool:
    """Whether the part of the film to colorize may last longer than ``seconds`` (unknown: yes)."""
    if span.start is not None and span.end is not None:
        return span.end - span.start > seconds
    if stream.duration:
        first = Fraction(stream.start_time or 0) * stream.time_base
        end = first + stream.duration * stream.time_base
    elif container.duration:
        first = Fraction(container.start_time or 0, av.time_base)
        end = first + Fraction(container.duration, av.time_base)
    else:
        return True
    return min(end, span.end or end) - (span.start if span.start is not None else first) > seconds


def interlace_of(src: Path, mode: str) -> Interlace:
    """Whether and how to deinterlace ``src`` under ``mode``; tells the user."""
    found = detect_interlace(src, mode)
    if found.telecined and mode == "auto":
        warnings.warn(f"{src}: {found.reason}; the film frames are matched back from their fields and the "
                      "repeated one of five dropped (inverse telecine: fieldmatch, decimate) before colorizing "
                      "(--deinterlace on to deinterlace every frame instead, off to keep the fields)", Notice, stacklevel=3)
    elif found.field_order and mode == "auto":
        warnings.warn(f"{src}: interlaced: {found.reason}; deinterlacing each frame (bwdif) before "
                      "colorizing (--deinterlace off to keep the fields)", Notice, stacklevel=3)
    elif mode == "auto" and found.reason != "progressive":
        warnings.warn(f"{src}: {found.reason}", Notice, stacklevel=3)
    return found


def colorize_segment(src, part, *, decode: Span, emit: Span, colorizer: Colorizer, settings: EncodeSettings,
                     strength: float, interlace: Interlace = PROGRESSIVE, task: Task | None = None,
                     guide: FilmReferences | None = None, carry: Carry = Carry(),
                     shared: SharedColors = SharedColors()) -> tuple[int, int, list[float], list[float]]:
    """Colorize the frames of ``src`` in ``emit`` into ``part``, video alone, for joining later.

    ``decode`` is ``emit`` widened by context frames on both sides: they go through the network
    and the smoother but are not written, so the color of every written frame is the same as an
    uninterrupted run gives it; ``shared`` spares the network the frames the segment before has
    colorized. ``guide``: the film's references, carried in and out as ``carry`` says. ``task``,
    where given, counts the frames written. Returns (frames written, frames
    colorized, the scene cuts among those written, the times of those the references hold less
    than half of; times in seconds on the output's clock).
    """
    src, part = Path(src), Path(part)
    with open_input(src) as container:
        stream = video_stream(container, src)
        with atomic_output(part) as tmp:
            run = _encode(src, part, tmp, container, stream, settings, decode, emit, strength or None,
                          lambda: colorizer, lambda net: None, None, interlace=interlace, task=task,
                          guide=guide, carry=carry, shared=shared)
    return run.writer.frames, run.count, run.cuts, run.unreached


def _encode(src: Path, dst: Path, tmp: Path, container, stream, settings: EncodeSettings, span: Span,
            emit: Span | None, smoothing: float | None, make_net, make_report, total: int | None, *,
            plan: StreamPlan | None = None, progress: Progress = QUIET, task: Task | None = None,
            interlace: Interlace = PROGRESSIVE, skip_color: bool = False, make_provenance=None,
            guide: FilmReferences | None = None, carry: Carry = Carry(),
            shared: SharedColors = SharedColors()) -> _Run:
    """Decode ``span`` of ``stream``, colorize, smooth at strength ``smoothing`` (None: no
    smoother at all), and encode into ``tmp`` with ``settings`` already resolved for the
    output, with the other streams as ``plan`` says (None: the video alone); the finished run.
    Frames written count in ``task``, else in a task of their own in ``progress`` (of ``total``)."""
    share_malloc_arenas()
    writer = VideoWriter(tmp, dst, src, container, stream, settings, span, plan,
                         interlace.output_rate(frame_rate(stream)))
    try:
        net = make_net()
        writer.provenance = make_provenance(net) if make_provenance else None
        smoother = None if smoothing is None else ChromaSmoother(
            smoothing, workers=net.threads.smooth_workers, device=net.device if net.smooth_on_device else None)
        cc = stream.codec_context
        # A deep source into a deep output is colorized at 16 bits (parity reads 8, as the official code).
        deep = deep_color(stream, settings.pix_fmt) and not net.parity
        run = _Run(net, stream.time_base, span, writer, smoother, make_report(net), emit, skip_color,
                   pixels=cc.width * cc.height, dtype=np.uint16 if deep else np.uint8, guide=guide, carry=carry,
                   shared=shared)
        writer.threads = net.threads.encoder_threads
        own = task is None
        task = progress.task("frames", src.name, total, advice=speed_advice(net)) if own else task
        try:
            run.go(decode_frames(container, stream, span, src, interlace, deep), task)
        finally:
            if own:
                task.end()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return run


def net_settings(net: Colorizer) -> dict:
    """The model's settings that change pixels, for the provenance of what it makes."""
    return {"input_size": net.input_size, "parity": net.parity, "precision": net.precision}


def queue_depth(pixels: int, batch_size: int) -> int:
    """Frames of ``pixels`` each queue between the stages holds for a network taking ``batch_size``."""
    fits = QUEUE_BYTES // max(1, pixels * BYTES_PER_WAITING_PIXEL)
    return int(max(2, min(max(QUEUE_FRAMES, 2 * batch_size), fits)))


def smoothing_strength(strength: float | None, parity: bool) -> float:
    if strength is None:
        return 0.0 if parity else DEFAULT_STRENGTH
    window(strength)  # validates the range
    if strength and parity:
        raise VidcolorError("--parity gives the official per-frame colors, which smoothing would change; "
                            "use one or the other")
    return float(strength)


class _Run:
    """Decode, sort out the shots already in color, and prepare (thread) -> network in batches
    (this thread, its replicas on their own) -> smooth (thread) -> finish and encode (thread)."""

    def __init__(self, net: Colorizer, time_base, span: Span, writer: VideoWriter, smoother: ChromaSmoother | None,
                 report: Report | None, emit: Span | None = None, skip_color: bool = False, *, pixels: int,
                 dtype=np.uint8, guide: FilmReferences | None = None, carry: Carry = Carry(),
                 shared: SharedColors = SharedColors()):
        self.net, self.time_base, self.shift = net, time_base, span.shift
        self.writer, self.smoother, self.report = writer, smoother, report
        self._measure = MotionTracker() if report is not None else None
        self.emit = emit  # None: write every frame; else only those in it (the rest is context)
        self.cuts: list[float] = []
        self.count = 0  # frames decoded and written (or, for a segment, kept as context)
        self.shots = ColorShots() if skip_color else None
        self.depth = queue_depth(pixels, net.batch_size)
        self.dtype = dtype  # of the frames made: uint16 for a deep source into a deep output
        # The guide's flows are computed ahead, and its frames guided, several at once, as the smoother's.
        self._guide_workers = Workers(net.threads.smooth_workers, "vidcolor-guide") if guide is not None else None
        self.clock, self.guide = guide, guide.make(self._guide_workers) if guide is not None else None
        if self.guide is not None and carry.load is not None:
            self.guide.load(carry.load)
        self._save = carry if self.guide is not None and carry.save is not None else None
        self._guide_flows = FlowsAhead(self.guide.tracker, self._guide_workers) if self.guide else None
        self._reach: dict[int, tuple[float, str | None]] = {}  # by pts, for the report, until written
        self.task: Task | None = None
        self.unreached: list[float] = []  # times of written frames the references hold less than half of
        self._shown = 0.0  # when the last picture of the work was shown
        self.shared = shared
        self._given = _read_shared(shared.load)  # by pts: the network's ab, from the segment before
        self._keep: dict[int, np.ndarray] = {}  # by pts: the network's ab, for the segment after

    def go(self, decoded, task: Task) -> None:
        net, smoother, depth = self.net, self.smoother, self.depth
        self.task = task
        # The network's inputs are made beside the decoder, so the network never waits for them;
        # frames are prepared, and finished, several at once where the plan has workers for it.
        preparing = Workers(net.threads.color_workers, "vidcolor-prepare")
        self._finishing = Workers(net.threads.color_workers, "vidcolor-finish")
        sorted_out = self.shots.stream((f, f.rgb) for f in decoded) if self.shots else \
            self._far_context(decoded) if self.emit is not None and self.guide is None and self.smoother else \
            ((f, False) for f in decoded)
        if self._given:
            sorted_out = ((f, self._given.get(f.pts, mark)) for f, mark in sorted_out)
        prepared = prefetch(preparing.map(partial(_with_input, net), sorted_out), maxsize=depth, name="decode")
        encoder = self._encoder = BackgroundSink(self._write, maxsize=depth, name="encode")
        smooth = None if smoother is None and self.guide is None else \
            BackgroundSink(self._smooth, maxsize=depth, name="smooth")
        count = 0
        try:
            for a, (f, L, own) in net.infer_stream(prepared):
                if self.shared.save is not None and (a is not None or f.pts in self._given) and \
                        (self.shared.save_from is None or f.pts * self.time_base >= self.shared.save_from):
                    self._keep[f.pts] = a if a is not None else own
                # A frame of a shot already in color keeps its pixels (its rgb); its own ab guides the smoother.
                a, original = (a, None) if a is not None else (own, f.rgb)
                tag = (L, f.pts, f.look, original, f.alpha)
                if smooth is None:
                    self._to_encoder(Smoothed(a, a, tag, None))
                else:
                    smooth.put((L, a, tag))
                count += 1
                if self._emitted(f.pts):
                    task.advance()
            if smooth is not None:
                smooth.close()
                for flowed in self._guide_flows.flush() if self.guide else ():
                    self._guide(*flowed)
                if self._save is not None:  # decoding ended where the next segment starts
                    self.guide.save(self._save.save)
                for g in self.guide.flush() if self.guide else ():
                    self._guided(g)
                for s in smoother.flush() if smoother else ():
                    self._to_encoder(s)
            encoder.close()
            if self.shared.save is not None:
                _write_shared(self.shared.save, self._keep)
        except BaseException:
            for stage in (smooth, encoder):
                if stage is not None:
                    stage.abort()
            prepared.close()
            raise
        finally:
            preparing.close()
            self._finishing.close()
            if self._guide_workers is not None:
                self._guide_workers.close()
        self.count = count

    def _far_context(self, decoded):
        """(frame, CONTEXT) for the context frames before a segment whose color no written frame
        uses (they are further from it than the smoother's window: only their lightness counts,
        for the flow and the cut detector), so they skip the network; (frame, False) for the rest."""
        radius, start = self.smoother.radius, self.emit.start
        waiting: deque = deque()
        for f in decoded:
            waiting.append(f)
            if len(waiting) > radius:  # f is ``radius`` frames after the one let go
                yield waiting.popleft(), CONTEXT if start is not None and f.pts * self.time_base < start else False
        for f in waiting:
            yield f, False

    def _emitted(self, pts: int) -> bool:
        return self.emit is None or self.emit.contains(pts * self.time_base)

    def _smooth(self, item) -> None:
        """Guide (where there are references), then smooth: references are not averaged away."""
        L, a, tag = item
        if self.guide is None:
            return self._smoothed(a, tag)
        for flowed in self._guide_flows.push(L, item):
            self._guide(*flowed)

    def _guide(self, prev, sample, flow, item) -> None:
        """The next frame whose flow is in, through the guide (stepping its tracker, in order)."""
        L, a, tag = item
        if self._save is not None and tag[1] * self.time_base >= self._save.save_at:
            self.guide.save(self._save.save)  # the next segment starts decoding here
            self._save = None
        step = self.guide.tracker.step(prev, sample, flow)
        for g in self.guide.push(L, a, self.clock.position(tag[1] * self.time_base), tag, step=step):
            self._guided(g)

    def _guided(self, g) -> None:
        """A guided frame on to the smoother; how far the references reach it, kept."""
        pts = g.tag[1]
        if self.report is not None:
            self._reach[pts] = (g.reach, self.clock.kind(self.clock.position(pts * self.time_base)))
        if g.reach < NEEDS_REFERENCE and self._emitted(pts):
            self.unreached.append(round(float(pts * self.time_base - self.shift), 6))
        self._smoothed(g.ab, g.tag, g.step)

    def _smoothed(self, a, tag, step=None) -> None:
        """On to the smoother; ``step``: the guide's, whose flow it takes."""
        if self.smoother is None:
            return self._to_encoder(Smoothed(a, a, tag, None))
        for s in self.smoother.push(tag[0], a, tag, step):
            self._to_encoder(s)

    @property
    def kept(self) -> int:
        return self.shots.kept if self.shots else 0

    def _to_encoder(self, s: Smoothed) -> None:
        L, pts, look, original, alpha = s.tag
        if not self._emitted(pts):
            return  # context for the smoother only
        finished = self._finishing.submit(self._finished, L, s.ab, look, original, alpha)
        # Past here only the report needs the lightness, the unsmoothed color and the RGB frame.
        measured = (L, s.raw) if self.report is not None else None
        self._encoder.put((pts, look, s.step, measured, finished))

    def _finished(self, L, ab, look, original, alpha):
        """The frame in the encoder's format (converted here, beside other frames, or made so on the
        device), and in RGB where the report needs it."""
        layout = self.writer.planar(look, alpha) if original is None and self.report is None else None
        planes = None if layout is None else self.net.finish_planes(L, ab, layout)
        if planes is not None:
            return frame_from_planes(planes, layout), None
        rgb = self.net.finish(L, ab, dtype=self.dtype) if original is None else original
        if self.report is None:
            return self.writer.to_frame(rgb, look, alpha), None
        return self.writer.to_frame(rgb, look, alpha), rgb if rgb.dtype == np.uint8 else (rgb // 257).astype(np.uint8)

    def _write(self, item) -> None:
        pts, look, step, measured, finished = item
        frame, rgb = finished.result()
        self.writer.write(frame, pts, look)
        now = time.monotonic()
        if self.task is not None and now - self._shown >= PICTURE_EVERY:
            self._shown = now
            self.task.show(picture(frame))
        if step is None:
            return
        at = float(pts * self.time_base - self.shift)
        if step.cut:
            self.cuts.append(round(at, 6))
        if measured is not None:
            L, raw = measured
            versions = {"unsmoothed": self.net.finish(L, raw), "smoothed": rgb} if self.smoother.radius \
                else {"unsmoothed": rgb}
            reach, kind = self._reach.pop(pts, (None, None))
            # Measured along a flow of the report's own (DIS medium, as `vidcolor eval`), not the smoother's.
            self.report.add(at, self._measure.push(L), reach=reach, referenced=kind, **versions)


PICTURE_WIDTH = 320  # pixels across a picture of the work
CONTEXT = "context"  # a frame decoded for its lightness alone


def picture(frame: av.VideoFrame) -> bytes:
    """A small JPEG of a frame as it is encoded."""
    height = max(2, round(frame.height * PICTURE_WIDTH / max(1, frame.width)) // 2 * 2)
    rgb = frame.reformat(width=PICTURE_WIDTH, height=height, format="bgr24").to_ndarray()
    return cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def _with_input(net: Colorizer, item):
    """(network input, (frame, its full-resolution lightness, None)) for a decoded frame. Without
    an input (it skips the network), its ab on the model's grid in place of None: a frame of a shot
    already in color, its own; a frame the segment before colorized (an array given), that one's;
    a far context frame (CONTEXT), zeros no written frame reads."""
    frame, in_color = item
    if in_color is CONTEXT or isinstance(in_color, np.ndarray):  # only its lightness, or its ab given
        L, _ = net.prepare(frame.rgb)
        frame.rgb = None  # made from its lightness and that ab, as a frame the network colorized
        ab = in_color if isinstance(in_color, np.ndarray) else np.zeros((net.input_size, net.input_size, 2),
                                                                         np.float32)
        return None, (frame, L, ab)
    if not in_color:
        L, x = net.prepare(frame.rgb)
        frame.rgb = None  # its lightness is all that is needed from here, and 3 bytes a pixel fewer
        return x, (frame, L, None)
    L, ab = lab.split(frame.rgb)
    return None, (frame, L, cv2.resize(ab, (net.input_size, net.input_size), interpolation=cv2.INTER_AREA))


def _read_shared(path: Path | None) -> dict[int, np.ndarray]:
    """{pts: ab} a segment before saved, or nothing where it saved none (or it is unreadable)."""
    if path is None:
        return {}
    try:
        with np.load(path) as saved:
            return {int(k): saved[k] for k in saved.files}
    except (OSError, ValueError):
        return {}


def _write_shared(path: Path, colors: dict[int, np.ndarray]) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{str(pts): ab for pts, ab in colors.items()})


def colorize_image(src, dst, *, colorizer: Colorizer | None = None, skip_color: bool = False,
                   overwrite: bool = False, quiet: bool = False, on_progress: Listener | None = None,
                   reference=None, hints=None, **model_options) -> Summary:
    """Colorize one still image; an alpha channel is kept where the output format holds one.
    ``skip_color``: a still already in color is written as it is. ``reference``: a color version
    of it (a file, RGBA for a partial one) whose colors it takes, as a film's keyframe does;
    ``hints``: a JSON file of color points and strokes on it."""
    return _colorize_stills([(Path(src), Path(dst))], colorizer, skip_color, overwrite,
                            for_run(quiet, on_progress), model_options, reference, hints)


def colorize_folder(src, dst, *, colorizer: Colorizer | None = None, skip_color: bool = False,
                    recursive: bool = False, overwrite: bool = False, quiet: bool = False,
                    on_progress: Listener | None = None, **model_options) -> Summary:
    """Colorize every still in the folder ``src`` into the folder ``dst``, under the same names
    (``recursive``: in its subfolders too, mirrored in ``dst``); with ``skip_color``, those
    already in color are written as they are. What is left out is named in a warning."""
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise VidcolorError(f"{src}: no such folder")
    inside = dst.resolve()  # an output folder inside the input is not input
    found = sorted(p for p in (src.rglob("*") if recursive else src.iterdir())
                   if not p.name.startswith(".") and inside not in (p.resolve(), *p.resolve().parents))
    images = [p for p in found if p.is_file() and is_image_path(p)]
    if not images:
        raise VidcolorError(f"{src}: no images in this folder (looked for {', '.join(sorted(IMAGE_EXTENSIONS)[:6])}, ...)"
                            + ("" if recursive else "; --recursive looks in its subfolders too"))
    skipped = [p.relative_to(src).as_posix() for p in found if p.is_file() and not is_image_path(p)] + \
        ([] if recursive else [p.name + "/" for p in found if p.is_dir()])
    if skipped:
        what = "1 entry that is not an image" if len(skipped) == 1 else f"{len(skipped)} entries that are not images"
        more = ", ..." if len(skipped) > 5 else ""
        hint = "" if recursive else " (--recursive colorizes subfolders' images too)"
        warnings.warn(f"{src}: skipped {what}: {', '.join(skipped[:5])}{more}{hint}", stacklevel=2)
    if dst.exists() and not dst.is_dir():
        raise VidcolorError(f"{dst}: exists and is not a folder")
    pairs = [(p, dst / p.relative_to(src)) for p in images]
    for _, out in pairs:
        out.parent.mkdir(parents=True, exist_ok=True)
    return _colorize_stills(pairs, colorizer, skip_color, overwrite, for_run(quiet, on_progress), model_options)


def _colorize_stills(pairs, colorizer, skip_color, overwrite, progress: Progress, model_options,
                     reference=None, hints=None) -> Summary:
    _check_options(model_options)
    for src, dst in pairs:
        check_output_path(src, dst, overwrite)
        if not src.is_file():
            raise VidcolorError(f"{src}: no such file")
    if reference is not None and hints is not None:
        raise VidcolorError(f"{hints}: a still takes a reference or hints, not both")
    if reference is not None:
        reference = Path(reference)
        check_references({0: reference}, read_image(pairs[0][0])[0].shape[:2])
    if hints is not None:
        reference = read_hints(hints, Fraction(1), 1, read_image(pairs[0][0])[0].shape[:2], still=True)[0]
    t0 = time.perf_counter()
    net = make_colorizer(colorizer, progress=progress, **model_options)
    in_color = {src for src, _ in pairs if skip_color and chroma_score(read_image(src)[0][..., ::-1]) >= COLOR_SCORE}
    deep = not net.parity  # 16-bit scans stay 16-bit; parity reads 8 bits, as the official code does
    alphas = {}

    def frames():
        for src, _ in pairs:
            bgr, alphas[src] = read_image(src, deep)
            if src not in in_color:
                yield bgr

    # BGR all the way, as cv2.imread gives it: the official pipeline, bit for bit.
    results = _colorized(net, frames(), reference)
    task = progress.task("images", pairs[0][0].parent.name, len(pairs), unit="image",
                         advice=speed_advice(net)) if len(pairs) > 1 else None
    for src, dst in pairs:
        bgr, alpha = read_image(src, deep) if src in in_color else (next(results), alphas.pop(src))
        made = record(src, net.model_name, net.weights_path,
                      {**net_settings(net), "skip_color": skip_color, "kept_as_it_was": src in in_color,
                       "reference": identity({0: reference})[0] if isinstance(reference, Path) else None,
                       "hints": sha256_file(Path(hints))[:16] if hints is not None else None})
        for lost in write_image(dst, bgr, alpha, made, read_meta(src)):
            warnings.warn(f"{dst}: {src.name} loses {lost}", stacklevel=2)
        if task is not None:
            task.advance()
    if task is not None:
        task.end()
    return Summary(str(pairs[0][1].parent if len(pairs) > 1 else pairs[0][1]), len(pairs),
                   time.perf_counter() - t0, net.model_name, str(net.device), frames_kept=len(in_color))


def _colorized(net: Colorizer, frames, reference):
    """BGR stills colorized (as the official pipeline, bit for bit); with a ``reference`` (a file, or
    a list of hints), guided by it."""
    if reference is None:
        yield from net.colorize_stream(frames, order="bgr")
        return
    for bgr in frames:
        L, ab = net.predict([bgr], order="bgr")
        guided = ChromaGuide({0: reference}).push(L[0], ab[0], 0)[0].ab
        yield net.finish(L[0], guided, "bgr", bgr.dtype)


def _still_reference(specs) -> Path:
    specs = [str(s) for s in specs]
    if len(specs) != 1 or "@" in specs[0] or Path(specs[0]).is_dir():
        raise VidcolorError(f"a still takes one reference, as --reference FILE (got {', '.join(specs)})")
    return Path(specs[0])


def colorize_path(src, dst, **options) -> Summary:
    """Dispatch on what ``src`` is: a folder of stills, a still image, or a video; a folder or a
    printf pattern of frames written to a video file is an image sequence."""
    src, dst = Path(src), Path(dst)
    to_video = bool(dst.suffix) and not is_image_path(dst)
    if is_pattern(src) or (src.is_dir() and to_video) or not (src.is_dir() or is_image_path(src)):
        if options.pop("recursive", False):
            raise VidcolorError(f"{src}: --recursive is for a folder of stills written to a folder")
        return colorize_video(src, dst, **options)
    if options.get("fps") is not None:
        raise VidcolorError(f"{src}: --fps is for image sequences written to a video; {dst} is a still or folder")
    if options.get("report") is not None:
        raise VidcolorError(f"{src}: --report measures video over time; it does not apply to stills")
    if options.get("smooth_strength"):
        raise VidcolorError(f"{src}: --smooth-strength smooths a film's color over time; a still has no time to "
                            "smooth over")
    stills_options = {k: v for k, v in options.items() if k not in VIDEO_ONLY_OPTIONS}
    references, hints = options.get("references"), options.get("hints")
    if not src.is_dir():
        if stills_options.pop("recursive", False):
            raise VidcolorError(f"{src}: --recursive is for a folder of stills")
        return colorize_image(src, dst, reference=_still_reference(references) if references else None,
                              hints=hints, **stills_options)
    if references or hints:
        raise VidcolorError(f"{src}: references are for one film or one still, not a folder of stills")
    return colorize_folder(src, dst, **stills_options)


def _check_options(options: dict) -> None:
    unknown = set(options) - set(MODEL_OPTIONS)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    check_model_choice(options.get("model"), options.get("weights"))
