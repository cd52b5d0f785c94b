"""One span of a film through the network and the stages after it, into an encoder: decode, sort
out the shots already in color, and prepare (thread) -> the network in batches (this thread, its
replicas on their own) -> the stages (``frame_stages``: guide, smooth, finish; a thread, the
finish on workers) -> encode (thread). What the whole-film run (``vidcolor.pipeline``) and a
segment of one (``vidcolor.resume``) share.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from .. import lab
from ..media.atomic import atomic_output
from ..media.decode import decode_frames, deep_color
from ..media.encode import EncodeSettings, VideoWriter
from ..media.interlace import PROGRESSIVE, Interlace
from ..media.pixels import frame_from_planes
from ..media.probe import frame_rate, open_input, video_stream
from ..media.streams import StreamPlan
from ..media.timeline import Span
from ..memory import share_malloc_arenas
from ..metrics import Report
from ..metrics.video import NEEDS_REFERENCE
from ..models import Colorizer
from ..models.advice import speed_advice
from ..progress import PICTURE_EVERY, QUIET, Progress, Task
from ..stages import BackgroundSink, Workers, prefetch
from ..temporal import ChromaSmoother, MotionTracker
from ..temporal.color_shots import ColorShots
from ..temporal.reference_files import Carry, FilmReferences
from .frame_stages import FinishStage, FrameItem, GuideStage, SmoothStage, Stage, flush_through, run_through

# Frames each queue between stages may hold: enough to absorb the bursts of the smoother
# (it releases a window's worth after a cut) and of the encoder, so the network never idles;
# fewer of very large frames, so that what waits in a queue stays under QUEUE_BYTES.
QUEUE_FRAMES = 8
QUEUE_BYTES = 1 << 30
BYTES_PER_WAITING_PIXEL = 3 + 4  # the decoded RGB until it is prepared, then the float lightness
PICTURE_WIDTH = 320  # pixels across a picture of the work
CONTEXT = "context"  # a frame decoded for its lightness alone


@dataclass(frozen=True)
class SharedColors:
    """The network's colors of the frames two neighbouring segments both decode, computed once:
    a segment saves those of its frames from ``save_from`` on (seconds on the input's clock) to
    ``save``, and the next reads them from its ``load`` instead of running the network again."""

    load: Path | None = None
    save: Path | None = None
    save_from: Fraction | None = None

    def read(self) -> dict[int, np.ndarray]:
        """{pts: ab} the segment before saved, or nothing where it saved none (or it is unreadable)."""
        if self.load is None:
            return {}
        try:
            with np.load(self.load) as saved:
                return {int(k): saved[k] for k in saved.files}
        except (OSError, ValueError):
            return {}

    def write(self, colors: dict[int, np.ndarray]) -> None:
        with atomic_output(self.save) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{str(pts): ab for pts, ab in colors.items()})


@dataclass(frozen=True)
class RunSpan:
    """What a run decodes (``decode``), and of it what it writes (``emit``; None: all of it);
    the references' colors carried in and out as ``carry`` says, the network's shared with the
    segments beside it as ``shared`` says."""

    decode: Span
    emit: Span | None = None
    carry: Carry = Carry()
    shared: SharedColors = SharedColors()


def colorize_segment(src, part, *, span: RunSpan, colorizer: Colorizer, settings: EncodeSettings,
                     strength: float, interlace: Interlace = PROGRESSIVE, task: Task | None = None,
                     guide: FilmReferences | None = None) -> tuple[int, int, list[float], list[float]]:
    """Colorize the frames of ``src`` in ``span.emit`` into ``part``, video alone, for joining later.

    ``span.decode`` is its ``emit`` widened by context frames on both sides: they go through
    the network and the smoother but are not written, so the color of every written frame is the
    same as an uninterrupted run gives it. ``guide``: the film's references. ``task``, where given,
    counts the frames written. Returns (frames written, frames colorized, the scene cuts among
    those written, the times of those the references hold less than half of; times in seconds on
    the output's clock).
    """
    src, part = Path(src), Path(part)
    with open_input(src) as container:
        stream = video_stream(container, src)
        with atomic_output(part) as tmp:
            run = encode_span(src, part, tmp, container, stream, settings, span, strength or None,
                              lambda: colorizer, interlace=interlace, task=task, guide=guide)
    return run.writer.frames, run.count, run.cuts, run.unreached


def encode_span(src: Path, dst: Path, tmp: Path, container, stream, settings: EncodeSettings, span: RunSpan,
                smoothing: float | None, make_net, make_report=lambda net: None, total: int | None = None, *,
                plan: StreamPlan | None = None, progress: Progress = QUIET, task: Task | None = None,
                interlace: Interlace = PROGRESSIVE, skip_color: bool = False, make_provenance=None,
                guide: FilmReferences | None = None) -> FramePipeline:
    """Decode ``span`` of ``stream``, colorize, smooth at strength ``smoothing`` (None: no
    smoother at all), and encode into ``tmp`` with ``settings`` already resolved for the
    output, with the other streams as ``plan`` says (None: the video alone); the finished run.
    Frames written count in ``task``, else in a task of their own in ``progress`` (of ``total``)."""
    share_malloc_arenas()
    writer = VideoWriter(tmp, dst, src, container, stream, settings, span.decode, plan,
                         interlace.output_rate(frame_rate(stream)))
    try:
        net = make_net()
        writer.provenance = make_provenance(net) if make_provenance else None
        smoother = None if smoothing is None else ChromaSmoother(
            smoothing, workers=net.threads.smooth_workers, device=net.device if net.smooth_on_device else None)
        cc = stream.codec_context
        # A deep source into a deep output is colorized at 16 bits (parity reads 8, as the official code).
        deep = deep_color(stream, settings.pix_fmt) and not net.parity
        run = FramePipeline(net, stream.time_base, span, writer, smoother, make_report(net), skip_color,
                            pixels=cc.width * cc.height, dtype=np.uint16 if deep else np.uint8, guide=guide)
        writer.threads = net.threads.encoder_threads
        own = task is None
        task = progress.task("frames", src.name, total, advice=speed_advice(net)) if own else task
        try:
            run.go(decode_frames(container, stream, span.decode, src, interlace, deep), task)
        finally:
            if own:
                task.end()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return run


def queue_depth(pixels: int, batch_size: int) -> int:
    """Frames of ``pixels`` each queue between the stages holds for a network taking ``batch_size``."""
    fits = QUEUE_BYTES // max(1, pixels * BYTES_PER_WAITING_PIXEL)
    return int(max(2, min(max(QUEUE_FRAMES, 2 * batch_size), fits)))


class FramePipeline:
    """The frames of one span, from the decoder to the encoder (see the module's docstring)."""

    def __init__(self, net: Colorizer, time_base, span: RunSpan, writer: VideoWriter,
                 smoother: ChromaSmoother | None, report: Report | None, skip_color: bool = False, *, pixels: int,
                 dtype=np.uint8, guide: FilmReferences | None = None):
        self.net, self.time_base, self.shift = net, time_base, span.decode.shift
        self.writer, self.smoother, self.report = writer, smoother, report
        self.emit = span.emit  # None: write every frame; else only those in it (the rest is context)
        self.count = 0  # frames decoded and written (or, for a segment, kept as context)
        self.shots = ColorShots() if skip_color else None
        self.depth = queue_depth(pixels, net.batch_size)
        self.dtype = dtype  # of the frames made: uint16 for a deep source into a deep output
        # The guide's flows are computed ahead, and its frames guided, several at once, as the smoother's.
        self._guide_workers = Workers(net.threads.smooth_workers, "vidcolor-guide") if guide is not None else None
        self._finishing = Workers(net.threads.color_workers, "vidcolor-finish")
        self.clock = guide
        self.guide = None if guide is None else GuideStage(guide, self._guide_workers, time_base, span.carry)
        smooth = None if smoother is None else SmoothStage(smoother)
        self.stages: list[Stage] = [s for s in (self.guide, smooth) if s is not None] + \
            [FinishStage(self._finished, self._finishing, self._emitted)]
        self.unreached: list[float] = []  # times of written frames the references hold less than half of
        self.shared = span.shared
        self._given = span.shared.read()  # by pts: the network's ab, from the segment before
        self._keep: dict[int, np.ndarray] = {}  # by pts: the network's ab, for the segment after

    def go(self, decoded, task: Task) -> None:
        net, depth = self.net, self.depth
        self.encoding = EncodeStage(self.writer, self.time_base, self.shift, task, self.report,
                                    None if self.smoother is None else self.smoother.radius, self.clock, self.net)
        # The network's inputs are made beside the decoder, so the network never waits for them;
        # frames are prepared, and finished, several at once where the plan has workers for it.
        preparing = Workers(net.threads.color_workers, "vidcolor-prepare")
        sorted_out = self.shots.stream((f, f.rgb) for f in decoded) if self.shots else \
            self._far_context(decoded) if self.emit is not None and self.guide is None and self.smoother else \
            ((f, False) for f in decoded)
        if self._given:
            sorted_out = ((f, self._given.get(f.pts, mark)) for f, mark in sorted_out)
        prepared = prefetch(preparing.map(partial(_with_input, net), sorted_out), maxsize=depth, name="decode")
        encoder = self._encoder = BackgroundSink(self.encoding.push, maxsize=depth, name="encode")
        # With only the finish after the network, it runs on this thread (it only submits to workers).
        staged = None if len(self.stages) == 1 else BackgroundSink(self._through, maxsize=depth, name="smooth")
        count = 0
        try:
            for a, (f, L, own) in net.infer_stream(prepared):
                if self.shared.save is not None and (a is not None or f.pts in self._given) and \
                        (self.shared.save_from is None or f.pts * self.time_base >= self.shared.save_from):
                    self._keep[f.pts] = a if a is not None else own
                # A frame of a shot already in color keeps its pixels (its rgb); its own ab guides the smoother.
                a, original = (a, None) if a is not None else (own, f.rgb)
                item = FrameItem(L, a, f.pts, f.look, original, f.alpha)
                if staged is None:
                    self._through(item)
                else:
                    staged.put(item)
                count += 1
                if self._emitted(f.pts):
                    task.advance()
            if staged is not None:
                staged.close()
            for item in flush_through(self.stages):
                self._to_encoder(item)
            encoder.close()
            if self.shared.save is not None:
                self.shared.write(self._keep)
        except BaseException:
            for stage in (staged, encoder):
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

    def _through(self, item: FrameItem) -> None:
        for out in run_through(self.stages, [item]):
            self._to_encoder(out)

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

    @property
    def kept(self) -> int:
        return self.shots.kept if self.shots else 0

    @property
    def cuts(self) -> list[float]:
        """The scene cuts among the frames written (seconds on the output's clock)."""
        return self.encoding.cuts

    def _to_encoder(self, item: FrameItem) -> None:
        if item.reach is not None and item.reach < NEEDS_REFERENCE:
            self.unreached.append(round(float(item.pts * self.time_base - self.shift), 6))
        if self.report is None:  # past here only the report needs the lightness and the unsmoothed color
            item.L = item.raw = item.original = None
        self._encoder.put(item)

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



class EncodeStage:
    """The last stage: each finished frame written by ``writer``, a picture of the work shown in
    ``task`` now and then, the scene cuts kept, and with a ``report``, the frame measured.
    ``radius``: the smoother's window (None: no smoother, no motion followed)."""

    def __init__(self, writer: VideoWriter, time_base, shift, task: Task | None, report: Report | None,
                 radius: int | None, clock: FilmReferences | None, net: Colorizer):
        self.writer, self.time_base, self.shift, self.task = writer, time_base, shift, task
        self.report, self.radius, self.clock, self.net = report, radius, clock, net
        self._measure = MotionTracker() if report is not None else None
        self.cuts: list[float] = []
        self._shown = 0.0  # when the last picture of the work was shown

    def push(self, item: FrameItem) -> list[FrameItem]:
        frame, rgb = item.finished.result()
        self.writer.write(frame, item.pts, item.look)
        now = time.monotonic()
        if self.task is not None and now - self._shown >= PICTURE_EVERY:
            self._shown = now
            self.task.show(picture(frame))
        if item.step is None or self.radius is None:
            return []
        at = float(item.pts * self.time_base - self.shift)
        if item.step.cut:
            self.cuts.append(round(at, 6))
        if self.report is not None:
            versions = {"unsmoothed": self.net.finish(item.L, item.raw), "smoothed": rgb} if self.radius \
                else {"unsmoothed": rgb}
            kind = self.clock.kind(self.clock.position(item.pts * self.time_base)) if self.clock else None
            # Measured along a flow of the report's own (DIS medium, as `vidcolor eval`), not the smoother's.
            self.report.add(at, self._measure.push(item.L), reach=item.reach, referenced=kind, **versions)
        return []

    def flush(self) -> list[FrameItem]:
        return []


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
