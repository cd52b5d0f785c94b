"""Decode the frames of one video stream as RGB arrays with their exact timestamps."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import VidcolorError, first_line
from .interlace import deinterlace
from .timeline import Span

SEEK_MARGIN = Fraction(1)  # seconds


@dataclass(frozen=True)
class FrameLook:
    """How a frame is to be shown: what the output must repeat."""

    rotation: int
    colorspace: int
    color_range: int
    color_primaries: int
    color_trc: int


@dataclass
class DecodedFrame:
    rgb: np.ndarray  # (H, W, 3) uint8
    pts: int  # in the stream's time base
    look: FrameLook


def decode_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                  span: Span, path: str | Path, field_order: str | None = None) -> Iterator[DecodedFrame]:
    """The frames of ``span``, deinterlaced first where ``field_order`` ("tff" or "bff") is given."""
    stream.thread_type = "AUTO"
    tb = stream.time_base
    if span.start:
        # Some demuxers seek by decode time: from a little earlier, no wanted frame is skipped.
        container.seek(max(0, int((span.start - SEEK_MARGIN) / tb)), stream=stream, backward=True)
    step = _frame_step(stream)
    pts = None
    frames = container.decode(stream)
    if field_order:
        frames = deinterlace(frames, stream, field_order)
    try:
        for frame in frames:
            # A frame without a timestamp (raw streams) follows its predecessor by one frame.
            pts = frame.pts if frame.pts is not None else (0 if pts is None else pts + step)
            t = pts * tb
            if span.end is not None and t >= span.end:
                break
            if span.contains(t):
                yield DecodedFrame(to_rgb(frame), pts, look_of(frame))
    except av.error.FFmpegError as e:
        where = f" after {float(pts * tb):.3f}s" if pts is not None else ""
        raise VidcolorError(f"{path}: corrupt video data{where} ({first_line(e)})") from None


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    # Convert with the matrix and range the frame is tagged with; the encoder uses the same ones.
    return frame.to_ndarray(format="rgb24", src_color_range=frame.color_range)


def look_of(frame: av.VideoFrame) -> FrameLook:
    return FrameLook(int(round(frame.rotation or 0)), int(frame.colorspace), int(frame.color_range),
                     int(frame.color_primaries), int(frame.color_trc))


def expected_frames(stream: av.video.stream.VideoStream, container: av.container.InputContainer) -> int | None:
    """The frame count the file announces, or an estimate from duration x rate (for progress only)."""
    if stream.frames:
        return stream.frames
    rate = stream.average_rate or stream.guessed_rate
    if stream.duration and rate:
        return int(round(stream.duration * stream.time_base * rate))
    if container.duration and rate:
        return int(round(Fraction(container.duration, av.time_base) * rate))
    return None


def _frame_step(stream) -> int:
    rate = stream.average_rate or stream.guessed_rate or 25
    return max(1, round(1 / (Fraction(rate) * stream.time_base)))
