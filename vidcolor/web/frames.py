"""Single frames for the page: a film's frame at a time (a still's picture), as PNG, and a
preview of a frame colorized with a job's settings, made in a worker process that keeps its
model between previews."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidcolorError

SHOWN = 1280  # the long side of a frame sent to the page, at most


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The RGB frame of ``path`` shown at ``seconds`` from its first picture (a still: itself)."""
    from ..media.images import is_image_path, read_image

    if is_image_path(path):
        bgr, _ = read_image(path)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    import av

    from ..media.probe import open_input, video_stream
    from ..media.timeline import first_picture_time

    with open_input(path) as container:
        stream = video_stream(container, path)
        origin = first_picture_time(path, stream.index) or Fraction(0)
        target = origin + Fraction(max(0.0, seconds)).limit_denominator(1000)
        if seconds > 0:
            container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
        last = None
        try:
            for frame in container.decode(stream):
                if last is not None and frame.pts is not None and frame.pts * stream.time_base > target:
                    break
                last = frame
        except av.error.FFmpegError as e:
            if last is None:
                raise VidcolorError(f"{path}: cannot decode ({e})") from None
    if last is None:
        raise VidcolorError(f"{path}: no frame at {seconds:g} s")
    return last.to_ndarray(format="rgb24")


def png(rgb: np.ndarray, size: int = SHOWN) -> bytes:
    h, w = rgb.shape[:2]
    if max(h, w) > size:
        scale = size / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise VidcolorError("cannot encode a PNG")
    return data.tobytes()


_colorizers: dict = {}


def _preview(path: str, seconds: float, model_options: dict) -> tuple[bytes, bytes]:
    """(the frame, the frame colorized), as PNG; in the preview worker, whose model stays loaded."""
    from ..models import Colorizer

    key = tuple(sorted(model_options.items()))
    if key not in _colorizers:
        _colorizers.clear()  # one model at a time: a worker's memory is bounded
        _colorizers[key] = Colorizer(progress=False, **model_options)
    rgb = frame_at(Path(path), seconds)
    gray = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    colored = _colorizers[key].colorize(gray[None])[0]
    return png(gray), png(colored)


class Previews:
    """One worker process for previews, started at the first one."""

    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, path: Path, seconds: float, model_options: dict):
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool.submit(_preview, str(path), seconds, model_options)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
