"""Interlaced sources: detect them (the stream's flags and FFmpeg's idet combing test) and
deinterlace with FFmpeg's bwdif, through PyAV filter graphs.

Colorizing woven fields as if they were one picture gives the model combs to color and the
flow two motions per frame; each frame is deinterlaced first, one output frame per input frame.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VidcolorError
from .probe import open_input, video_stream

MODES = ("auto", "on", "off")
PROBE_FRAMES = 60
# Interlaced when idet finds combed fields in this share of the probed frames it could decide,
# and in at least MIN_COMBED of them. Deinterlacing a progressive film softens it, so the bar is
# high: hard-edged synthetic pictures can look combed in a few frames; real interlaced video
# with motion is combed nearly throughout.
COMBED_SHARE = 0.8
MIN_COMBED = 10


@dataclass(frozen=True)
class Interlace:
    field_order: str | None  # "tff" or "bff"; None: progressive, nothing to do
    reason: str  # what the decision rests on, for the notice


def detect(path: str | Path, mode: str = "auto", frames: int = PROBE_FRAMES) -> Interlace:
    """Whether (and how) to deinterlace the first video stream of ``path`` under ``mode``."""
    if mode not in MODES:
        raise VidcolorError(f"--deinterlace must be one of {', '.join(MODES)}, not '{mode}'")
    if mode == "off":
        return Interlace(None, "--deinterlace off")
    flagged, verdicts = _probe(Path(path), frames)
    tff, bff, progressive = (verdicts.get(k, 0.0) for k in ("tff", "bff", "progressive"))
    decided = tff + bff + progressive
    order = "bff" if bff > tff else "tff"
    if mode == "on":
        return Interlace(order, "--deinterlace on")
    combed = tff + bff
    if decided and combed >= max(MIN_COMBED, COMBED_SHARE * decided):
        flags = f", and the stream flags {flagged} as interlaced" if flagged else ""
        return Interlace(order, f"{combed:.0f} of {decided:.0f} probed frames have combed fields "
                                f"({'bottom' if order == 'bff' else 'top'} field first{flags})")
    if flagged:
        return Interlace(None, f"the stream flags {flagged} frames as interlaced, but their fields show no "
                               "combing: kept as progressive (--deinterlace on to deinterlace anyway)")
    return Interlace(None, "progressive")


def _probe(path: Path, frames: int) -> tuple[int, dict[str, float]]:
    """(frames flagged interlaced, idet's multi-frame verdict counts) over the first ``frames``.

    Damaged data ends the probe early: the verdict rests on what was read, and decoding proper
    reports the damage."""
    flagged, last = 0, None
    with open_input(path) as container:
        stream = video_stream(container, path)
        graph = _graph(stream, "idet")
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
    prefix = "lavfi.idet.multiple."
    return flagged, {k[len(prefix):]: float(v) for k, v in meta.items()
                     if k.startswith(prefix) and k != prefix + "current_frame"}


def deinterlace(frames: Iterable[av.VideoFrame], stream, field_order: str) -> Iterator[av.VideoFrame]:
    """One bwdif-deinterlaced frame per frame, with the input's timestamps in the stream's time base."""
    graph = _graph(stream, "bwdif", f"mode=send_frame:parity={field_order}:deint=all")
    tb = stream.time_base

    def retimed(out: av.VideoFrame) -> av.VideoFrame:
        out.pts = round(Fraction(out.pts) * out.time_base / tb)  # bwdif halves the time base
        out.time_base = tb
        return out

    for frame in frames:
        graph.vpush(frame)
        yield from map(retimed, _drain(graph))
    graph.vpush(None)
    yield from map(retimed, _drain(graph))


def _graph(stream, name: str, args: str | None = None) -> av.filter.Graph:
    graph = av.filter.Graph()
    source = graph.add_buffer(template=stream)
    node = graph.add(name, args) if args else graph.add(name)
    sink = graph.add("buffersink")
    source.link_to(node)
    node.link_to(sink)
    graph.configure()
    return graph


def _drain(graph: av.filter.Graph) -> list[av.VideoFrame]:
    out = []
    while True:
        try:
            out.append(graph.vpull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return out
