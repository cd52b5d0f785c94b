"""Open an input file and find the video stream to colorize, with one-line errors."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VidcolorError, first_line
from .sequence import is_pattern, remove_links, sequence_input


@contextmanager
def open_input(path: str | Path, fps: float | None = None) -> Iterator[av.container.InputContainer]:
    """Open a media file, or an image sequence (a printf pattern or a folder) at ``fps``, for a
    ``with`` block."""
    path = Path(path)
    links = None
    if is_pattern(path) or path.is_dir():
        url, options, links = sequence_input(path, fps)
        try:
            container = av.open(url, format="image2", options=options, metadata_errors="replace")
        except av.error.FFmpegError as e:
            remove_links(links)
            raise VidcolorError(f"{path}: cannot read this image sequence ({first_line(e)})") from None
    else:
        container = _open_file(path)
    try:
        with container:
            yield container
    finally:
        remove_links(links)  # image2 opens each file as it reads it: only now are they done with


def _open_file(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VidcolorError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VidcolorError(f"{path}: empty file")
    container = _open(path)
    if any(s.codec_context.pix_fmt is None for s in container.streams.video):
        # FFmpeg's default probe (5 s, 5 MB) ended before it decoded a picture: video that starts
        # late (after its audio, in a stream-copy cut), say. Its pixel format, which filters and
        # the alpha test need before decoding, is then known only to a longer probe.
        container.close()
        container = _open(path, DEEP_PROBE)
    return container


# A longer probe, for the rare file whose first picture lies beyond the default one.
DEEP_PROBE = {"analyzeduration": str(120 * 1_000_000), "probesize": str(512 << 20)}


def _open(path: Path, options: dict | None = None) -> av.container.InputContainer:
    try:
        return av.open(str(path), metadata_errors="replace", options=options or {})
    except av.error.FFmpegError as e:
        raise VidcolorError(f"{path}: not a readable video file ({first_line(e)})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise VidcolorError(f"{path}: cannot open ({e})") from None


def frame_rate(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The stream's frames a second: its average, else FFmpeg's guess; None where neither is known."""
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate) if rate else None


def video_stream(container: av.container.InputContainer, path: str | Path) -> av.video.stream.VideoStream:
    """The first real video stream (cover art and thumbnails are not video)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
    raise VidcolorError(f"{path}: no video stream (streams found: {kinds})")



def frame_pts(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
              path: str | Path) -> list[int] | None:
    """Every frame's presentation time, in order, from the packets alone (nothing is decoded);
    None where some packet carries no time (raw streams)."""
    times = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's flush packet
            if packet.pts is None:
                return None
            times.append(packet.pts)
    except av.error.FFmpegError as e:
        raise VidcolorError(f"{path}: corrupt video data ({first_line(e)})") from None
    return sorted(times)
