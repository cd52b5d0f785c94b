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

from ..errors import VidcolorError
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
        raise VidcolorError(f"--deinterlace must be one of {', '.join(MODES)}, not '{mode}'")
    if mode == "off":
        return Interlace(None, "--deinterlace off")
    flagged, rate, verdicts = _probe(Path(path), frames)
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
        graph = _graph(stream, [("idet", None)])
        try:
            for count, frame in enumerate(container.decode(stream), 1):
                flagged += bool(frame.interlaced_frame)
                graph.vpush(frame)
                out = _drain(graph)
                last = out[-1] if out else last
                if count == frames:
                    break
        except av.error.FFmpegError:
            pass
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
    graph = _graph(stream, chain)
    tb = stream.time_base

    def retimed(out: av.VideoFrame) -> av.VideoFrame:
        # bwdif halves the time base; decimate counts frames at the new rate.
        out.pts = round(Fraction(out.pts) * out.time_base / tb)
        out.time_base = tb
        return out

    for frame in frames:
        graph.vpush(frame)
        yield from map(retimed, _drain(graph))
    graph.vpush(None)
    yield from map(retimed, _drain(graph))


def _graph(stream, chain: list[tuple[str, str | None]]) -> av.filter.Graph:
    """A graph of the filters in ``chain`` ((name, options) pairs) fed with frames of ``stream``."""
    graph = av.filter.Graph()
    cc = stream.codec_context
    sar = cc.sample_aspect_ratio or Fraction(1)
    rate = frame_rate(stream)
    # add_buffer(template=...) leaves out the frame rate, which decimate needs.
    args = (f"video_size={cc.width}x{cc.height}:pix_fmt={cc.pix_fmt}:time_base={stream.time_base}:"
            f"pixel_aspect={sar.numerator}/{sar.denominator}")
    node = graph.add("buffer", args + (f":frame_rate={rate.numerator}/{rate.denominator}" if rate else ""))
    for name, options in chain:
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
