"""Browsers play H.264, VP9 and AV1 in MP4 or WebM, in 4:2:0, and little else: a film in FFV1,
ProRes, MPEG-2 or 10 bits gets a small H.264 proxy for viewing (the result itself is untouched).
Made once per file, in a thread, with PyAV, and kept beside the job's result."""
from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VidcolorError, first_line
from ..media.atomic import atomic_output

PLAYABLE_CODECS = {"h264", "vp8", "vp9", "av1"}
PLAYABLE_CONTAINERS = {".mp4", ".m4v", ".webm", ".mov"}
PROXY_HEIGHT = 720  # at most; the width follows, even
_locks: dict[Path, threading.Lock] = {}
_guard = threading.Lock()


def playable(path: Path) -> bool:
    """Whether a browser can play ``path`` as it is."""
    if path.suffix.lower() not in PLAYABLE_CONTAINERS:
        return False
    try:
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            return video.codec_context.name in PLAYABLE_CODECS and video.format.name in ("yuv420p", "yuvj420p")
    except (av.error.FFmpegError, IndexError):
        return False


def viewable(path: Path, proxy: Path) -> Path:
    """``path`` where a browser plays it, else its proxy at ``proxy`` (made now if missing)."""
    if playable(path):
        return path
    with _guard:
        lock = _locks.setdefault(proxy, threading.Lock())
    with lock:  # a player asks for several ranges at once: the proxy is made once
        if not proxy.is_file() or proxy.stat().st_mtime < path.stat().st_mtime:
            make_proxy(path, proxy)
    return proxy


def make_proxy(path: Path, proxy: Path, start: float | None = None, duration: float | None = None) -> None:
    """An H.264 MP4 of ``path``'s picture, at most PROXY_HEIGHT high, on the same clock; of its
    part from ``start`` for ``duration`` seconds (on the picture's clock) where given."""
    try:
        with av.open(str(path)) as source, atomic_output(proxy) as tmp, av.open(str(tmp), "w") as out:
            video = source.streams.video[0]
            span = None
            if start is not None:
                from ..media.timeline import make_span

                span = make_span(source, video, path, start, duration)
                source.seek(int(span.start / video.time_base), stream=video, backward=True, any_frame=False)
            video.thread_type = "AUTO"
            cc = video.codec_context
            height = min(PROXY_HEIGHT, cc.height) // 2 * 2
            width = max(2, round(cc.width * height / cc.height / 2) * 2)
            rate = video.average_rate or Fraction(25)
            stream = out.add_stream("libx264", rate=rate, options={"crf": "26", "preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = video.time_base
            stream.codec_context.time_base = video.time_base
            for frame in source.decode(video):
                if span is not None and frame.pts is not None:
                    t = frame.pts * video.time_base
                    if span.end is not None and t >= span.end:
                        break
                    if not span.contains(t):
                        continue
                small = frame.reformat(width=width, height=height, format="yuv420p")
                small.pts, small.time_base = frame.pts, video.time_base
                out.mux(stream.encode(small))
            out.mux(stream.encode(None))
    except av.error.FFmpegError as e:
        raise VidcolorError(f"{path}: cannot make a preview copy to play ({first_line(e)})") from None
