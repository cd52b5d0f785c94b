"""Interlaced and telecined sources: detect them (the stream's flags and FFmpeg's idet combing
and repeated-field tests), then deinterlace with bwdif or undo the telecine with fieldmatch and
decimate, through PyAV filter graphs.

Colorizing woven fields as if they were one picture gives the model combs to color and the
flow two motions per frame. Interlaced video is deinterlaced, one output frame per input frame.
Telecined film (3:2 pulldown: 24 film frames a second spread over 30 video frames, two of every
five woven from two film frames) gets its film frames back whole: 4 output frames for 5.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VidcolorError, first_line, option
from .probe import frame_rate, open_input, video_stream

MODES = ("auto", "on", "off", "ivtc")
PROBE_FRAMES = 60
# Interlaced when idet finds combed fields in this share of the probed frames it could decide,
# and in at least MIN_COMBED of them. Deinterlacing a progressive film softens it, so the bar is
# high: hard-edged synthetic pictures can look combed in a few frames; real interlaced video
# with motion is combed nearly throughout.
COMBED_SHARE = 0.8
MIN_COMBED = 10
# Telecine repeats a field of the frame before in two frames of five (40%); interlaced video shot
# field by field repeats none. Pulldown to these rates is the one decimate's 1-in-5 undoes.
REPEATED_SHARE = 0.25
PULLDOWN_RATES = (Fraction(30000, 1001), Fraction(30))


@dataclass(frozen=True)
class Interlace:
    field_order: str | None  # "tff" or "bff"; None: progressive, nothing to do
    reason: str  # what the decision rests on, for the notice
    telecined: bool = False  # 3:2 pulldown, undone (inverse telecine) rather than deinterlaced

    def output_rate(self, rate: Fraction | None) -> Fraction | None:
        """The frame rate of what ``deinterlace`` gives for a stream at ``rate``."""
        return rate * Fraction(4, 5) if self.telecined and rate else rate

    def output_frames(self, frames: int) -> int:
        return frames * 4 // 5 if self.telecined else frames


PROGRESSIVE = Interlace(None, "progressive")


def detect(path: str | Path, mode: str = "auto", frames: int = PROBE_FRAMES) -> Interlace:
    """Whether (and how) to deinterlace the first video stream of ``path`` under ``mode``."""
    if mode not in MODES:
        raise VidcolorError(f"{option('deinterlace')} must be one of {', '.join(MODES)}, not '{mode}'")
    if mode == "off":
        return Interlace(None, "--deinterlace off")
    try:
        flagged, rate, verdicts = _probe(Path(path), frames)
    except (av.error.FFmpegError, ValueError) as e:  # a probe that fails must not fail a run that can go on
        if mode == "auto":
            return Interlace(None, f"the interlace probe failed ({first_line(e)}): treated as progressive "
                                   "(--deinterlace on or off to decide)")
        flagged, rate, verdicts = 0, None, {}
    tff, bff, progressive = (verdicts.get(f"multiple.{k}", 0.0) for k in ("tff", "bff", "progressive"))
    decided = tff + bff + progressive
    order = "bff" if bff > tff else "tff"
    if mode == "on":
        return Interlace(order, "--deinterlace on")
    if mode == "ivtc":
        return Interlace(order, "--deinterlace ivtc", telecined=True)
    combed = tff + bff
    repeated = verdicts.get("repeated.top", 0.0) + verdicts.get("repeated.bottom", 0.0)
    seen = repeated + verdicts.get("repeated.neither", 0.0)
    pulldown_rate = rate and any(abs(float(rate) - r) < 0.01 for r in PULLDOWN_RATES)  # as containers round it
    if pulldown_rate and combed >= MIN_COMBED and repeated >= max(MIN_COMBED, REPEATED_SHARE * seen):
        return Interlace(order, f"telecined (3:2 pulldown): {repeated:.0f} of {seen:.0f} probed frames repeat a "
                                f"field of the frame before ({'bottom' if order == 'bff' else 'top'} field first)",
                         telecined=True)
    if decided and combed >= max(MIN_COMBED, COMBED_SHARE * decided):
        flags = f", and the stream flags {flagged} as interlaced" if flagged else ""
        return Interlace(order, f"{combed:.0f} of {decided:.0f} probed frames have combed fields "
                                f"({'bottom' if order == 'bff' else 'top'} field first{flags})")
    if flagged:
        return Interlace(None, f"the stream flags {flagged} frames as interlaced, but their fields show no "
                               "combing: kept as progressive (--deinterlace on to deinterlace anyway)")
    return PROGRESSIVE


def _probe(path: Path, frames: int) -> tuple[int, Fraction | None, dict[str, float]]:
    """(frames flagged interlaced, the frame rate, idet's counts over the first ``frames``: its
    multi-frame verdicts as "multiple.tff" and so on, its repeated fields as "repeated.top", ...).

    Damaged data ends the probe early: the verdict rests on what was read, and decoding proper
    reports the damage."""
    flagged, last = 0, None
    with open_input(path) as container:
        stream = video_stream(container, path)
        rate = frame_rate(stream)
        graph = _Filters(stream, [("idet", None)])
        decoded = container.decode(stream)
        for _ in range(frames):
            try:
                frame = next(decoded, None)
            except av.error.FFmpegError:
                break
            if frame is None:
                break
            flagged += bool(frame.interlaced_frame)
            out = graph.push(frame)  # a filter that fails is not damaged data: the caller is told
            last = out[-1] if out else last
    meta = last.metadata if last is not None else {}
    prefix = "lavfi.idet."
    return flagged, rate, {k[len(prefix):]: float(v) for k, v in meta.items()
                           if k.startswith(prefix) and not k.endswith(".current_frame")}


def deinterlace(frames: Iterable[av.VideoFrame], stream, found: Interlace) -> Iterator[av.VideoFrame]:
    """Interlaced: one bwdif-deinterlaced frame per frame, at the input's timestamps. Telecined:
    the film frames, each matched back from its two fields (fieldmatch; one left combed, at a
    cut, is deinterlaced) and the repeated one of five dropped (decimate). Timestamps in the
    stream's time base."""
    order = found.field_order
    if found.telecined:
        chain = [("fieldmatch", f"order={order}:combmatch=full"),
                 ("bwdif", f"mode=send_frame:parity={order}:deint=interlaced"), ("decimate", None)]
    else:
        chain = [("bwdif", f"mode=send_frame:parity={order}:deint=all")]
    graph = _Filters(stream, chain)
    tb = stream.time_base

    def retimed(out: av.VideoFrame) -> av.VideoFrame:
        # bwdif halves the time base; decimate counts frames at the new rate.
        out.pts = round(Fraction(out.pts) * out.time_base / tb)
        out.time_base = tb
        return out

    for frame in frames:
        yield from map(retimed, graph.push(frame))
    yield from map(retimed, graph.push(None))


class _Filters:
    """The filters of ``chain`` ((name, options) pairs) fed with the frames of ``stream``.

    The graph is built from the first frame pushed: its size and pixel format are the decoder's
    real ones, which a stream's parameters may not yet know before anything is decoded (video
    that starts late in its file, an open GOP cut)."""

    def __init__(self, stream, chain: list[tuple[str, str | None]]):
        self.chain, self.time_base, self.rate = chain, stream.time_base, frame_rate(stream)
        self.sar = stream.codec_context.sample_aspect_ratio or Fraction(1)
        self.graph: av.filter.Graph | None = None

    def push(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        """The frames that come out once ``frame`` is in (None: the end, flushing what is left)."""
        if self.graph is None:
            if frame is None:
                return []
            self.graph = self._build(frame)
        self.graph.vpush(frame)
        return _drain(self.graph)

    def _build(self, frame: av.VideoFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        rate, sar = self.rate, self.sar
        # add_buffer(template=...) leaves out the frame rate, which decimate needs.
        args = (f"video_size={frame.width}x{frame.height}:pix_fmt={frame.format.name}:"
                f"time_base={self.time_base}:pixel_aspect={sar.numerator}/{sar.denominator}")
        node = graph.add("buffer", args + (f":frame_rate={rate.numerator}/{rate.denominator}" if rate else ""))
        for name, options in self.chain:
            following = graph.add(name, options) if options else graph.add(name)
            node.link_to(following)
            node = following
        node.link_to(graph.add("buffersink"))
        graph.configure()
        return graph


def _drain(graph: av.filter.Graph) -> list[av.VideoFrame]:
    out = []
    while True:
        try:
            out.append(graph.vpull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return out
