"""Decode the frames of one video stream as RGB arrays with their exact timestamps."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import VidcolorError, first_line
from .interlace import PROGRESSIVE, Interlace, deinterlace
from .probe import frame_rate
from .sequence import folder_frames
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
    rgb: np.ndarray | None  # (H, W, 3) uint8 (uint16: deep); None once the pipeline has taken its lightness
    pts: int  # in the stream's time base
    look: FrameLook
    alpha: np.ndarray | None = None  # (H, W) uint8, for a stream with an alpha channel


# FFmpeg's own VP8/VP9 decoders ignore the alpha WebM keeps beside each frame; libvpx's read it.
_VPX_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


def stream_has_alpha(stream: av.video.stream.VideoStream) -> bool:
    """Whether the frames of ``stream`` carry an alpha channel (WebM VP8/VP9 say so in a tag)."""
    tags = {k.lower(): v for k, v in stream.metadata.items()}  # FFmpeg's tag names ignore case
    if stream.codec_context.name in _VPX_ALPHA_DECODERS and tags.get("alpha_mode") == "1":
        return True
    return has_alpha(stream.codec_context.pix_fmt)


def _vpx_with_alpha(container: av.container.InputContainer, stream: av.video.stream.VideoStream):
    decoder = av.CodecContext.create(_VPX_ALPHA_DECODERS[stream.codec_context.name], "r")
    decoder.extradata = stream.codec_context.extradata
    for packet in container.demux(stream):
        yield from decoder.decode(packet if packet.size else None)


def has_alpha(pix_fmt: str | None) -> bool:
    """Whether frames of ``pix_fmt`` carry an alpha channel (yuva420p, rgba, ya8, gbrap10le, ...)."""
    try:
        fmt = av.VideoFormat(pix_fmt)
    except (TypeError, ValueError):
        return False
    return not fmt.has_palette and len(fmt.components) in (2, 4)


def deep_color(stream: av.video.stream.VideoStream, out_pix_fmt: str | None) -> bool:
    """Whether frames of ``stream`` are worth decoding at 16 bits a channel: more than 8 bits in,
    and more than 8 kept out (a 10-bit scan into the archive or master preset), no alpha."""
    return bit_depth(stream.codec_context.pix_fmt) > 8 and bit_depth(out_pix_fmt) > 8 and not stream_has_alpha(stream)


def bit_depth(pix_fmt: str | None) -> int:
    try:
        return max(c.bits for c in av.VideoFormat(pix_fmt).components)
    except (TypeError, ValueError):
        return 8


def decode_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                  span: Span, path: str | Path, interlace: Interlace = PROGRESSIVE,
                  deep: bool = False) -> Iterator[DecodedFrame]:
    """The frames of ``span``, deinterlaced (or telecine undone) first where ``interlace`` says;
    ``deep``: as 16-bit RGB."""
    stream.thread_type = "AUTO"
    tb = stream.time_base
    if span.start:
        # Some demuxers seek by decode time: from a little earlier, no wanted frame is skipped.
        container.seek(max(0, int((span.start - SEEK_MARGIN) / tb)), stream=stream, backward=True)
    step = _frame_step(stream)
    alpha = stream_has_alpha(stream)
    pts = None
    frames = _vpx_with_alpha(container, stream) if stream.codec_context.name in _VPX_ALPHA_DECODERS \
        and alpha else container.decode(stream)
    if interlace.field_order:
        frames = deinterlace(frames, stream, interlace)
    size = None
    try:
        for frame in frames:
            if (frame.width, frame.height) != (size := size or (frame.width, frame.height)):
                raise VidcolorError(_size_changed(Path(path), frame, tb, size))
            # A frame without a timestamp (raw streams) follows its predecessor by one frame.
            pts = frame.pts if frame.pts is not None else (0 if pts is None else pts + step)
            t = pts * tb
            if span.end is not None and t >= span.end:
                break
            if span.contains(t):
                rgb, a = to_rgb_alpha(frame) if alpha else (to_rgb(frame, deep), None)
                yield DecodedFrame(rgb, pts, look_of(frame), a)
    except av.error.FFmpegError as e:
        where = f" after {float(pts * tb):.3f}s" if pts is not None else ""
        raise VidcolorError(f"{path}: corrupt video data{where} ({first_line(e)})") from None


def _size_changed(path: Path, frame: av.VideoFrame, tb: Fraction, size: tuple[int, int]) -> str:
    """The error for a frame of another size than the first: the whole film is one size."""
    where = f"the frame at {float((frame.pts or 0) * tb):.3f}s"
    if path.is_dir():  # read through links numbered from 0: a frame's pts is its place in name order
        where = f"{folder_frames(path)[frame.pts].name} (frame {frame.pts} in name order)"
    return (f"{path}: {where} is {frame.width}x{frame.height}, but the frames before it are {size[0]}x{size[1]}; "
            "a film has one frame size: scale or crop the odd ones first")


def to_rgb(frame: av.VideoFrame, deep: bool = False) -> np.ndarray:
    # Convert with the matrix and range the frame is tagged with; the encoder uses the same ones.
    return frame.to_ndarray(format="rgb48le" if deep else "rgb24", src_color_range=frame.color_range)


def to_rgb_alpha(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray]:
    rgba = frame.to_ndarray(format="rgba", src_color_range=frame.color_range)
    return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])


def look_of(frame: av.VideoFrame) -> FrameLook:
    return FrameLook(int(round(frame.rotation or 0)), int(frame.colorspace), int(frame.color_range),
                     int(frame.color_primaries), int(frame.color_trc))


# Edit lists may legitimately hide a couple of the frames a stream announces; more is damage.
EDIT_LIST_SLACK = 2


def expected_frames(stream: av.video.stream.VideoStream, container: av.container.InputContainer,
                    span: Span = Span()) -> int | None:
    """The frame count the file announces, or an estimate from duration x rate; of a part
    (``span``), its duration x rate (for progress only)."""
    if not span.whole:
        return span.frames(frame_rate(stream))
    if stream.frames:
        return stream.frames
    rate = frame_rate(stream)
    if stream.duration and rate:
        return int(round(stream.duration * stream.time_base * rate))
    if container.duration and rate:
        return int(round(Fraction(container.duration, av.time_base) * rate))
    return None


def _frame_step(stream) -> int:
    return max(1, round(1 / ((frame_rate(stream) or 25) * stream.time_base)))
