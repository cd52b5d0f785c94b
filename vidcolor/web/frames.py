"""Single frames for the page: a film's frame at a time (a still's picture), as PNG; and, in a
worker process that keeps its model between calls, a frame colorized with a job's settings,
a film's keyframes, a result's steadiness measured."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidcolorError
from ..lifeline import die_with_parent

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


def _colorizer(model_options: dict):
    """The worker's model for these options, loaded once."""
    from ..models import Colorizer

    key = tuple(sorted(model_options.items()))
    if key not in _colorizers:
        _colorizers.clear()  # one model at a time: a worker's memory is bounded
        _colorizers[key] = Colorizer(progress=False, **model_options)
    return _colorizers[key]


def _preview(path: str, times: list[float] | None, model_options: dict, part: dict) -> list[tuple[float, bytes, bytes]]:
    """(time, the frame, the frame colorized as PNG) at each of ``times``, or, for None, at the
    first good frame of each shot (``vidcolor keyframes``'s choice, in ``part`` of the film); in
    the preview worker, whose model stays loaded."""
    net = _colorizer(model_options)
    if times is None:
        return _shot_previews(path, net, part)
    out = []
    for seconds in times:
        gray = _gray(frame_at(Path(path), seconds))
        out.append((seconds, png(gray), png(net.colorize(gray[None])[0])))
    return out


def _shot_previews(path: str, net, part: dict) -> list[tuple[float, bytes, bytes]]:
    """The first good frame of each shot, as the keyframes export chose and colorized it (read
    back, not colorized again), beside the frame as it is."""
    import tempfile

    from ..keyframes import export_keyframes, frame_name
    from .steer import film_clock

    rate = film_clock(Path(path))[0]
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for number in export_keyframes(path, folder, colorizer=net, quiet=True, **part).frames:
            seconds = float(number / rate)
            colored = cv2.cvtColor(cv2.imread(str(Path(folder) / frame_name(number))), cv2.COLOR_BGR2RGB)
            out.append((seconds, png(_gray(frame_at(Path(path), seconds))), png(colored)))
    return out


def _gray(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def _clip(path: str, folder: str, start: float, seconds: float, options: dict) -> None:
    """A few seconds colorized with a job's options (smoothing included), and the same seconds
    as they are, both H.264 (``after.mp4``, ``before.mp4`` in ``folder``): to see a setting that
    a still frame cannot show."""
    from ..options import MODEL_OPTIONS
    from ..pipeline import colorize_video
    from .proxy import make_proxy

    model = {k: v for k, v in options.items() if k in MODEL_OPTIONS}
    rest = {k: v for k, v in options.items() if k not in MODEL_OPTIONS and k not in ("start", "duration", "preset",
                                                                                    "codec", "crf", "pix_fmt")}
    colorize_video(path, Path(folder) / "after.mp4", colorizer=_colorizer(model), start=start, duration=seconds,
                   preset="preview", overwrite=True, quiet=True, segment_seconds=None, **rest)
    make_proxy(Path(path), Path(folder) / "before.mp4", start, seconds)


def _keyframes(path: str, folder: str, model_options: dict, part: dict) -> list[int]:
    """A keyframe per shot of the film (``vidcolor keyframes``) into ``folder``: their frame numbers."""
    from ..keyframes import export_keyframes

    return export_keyframes(path, folder, colorizer=_colorizer(model_options), overwrite=True, quiet=True,
                            **part).frames


def _quality(input: str, output: str, report: str, part: dict) -> dict:
    """``vidcolor eval`` of a job's result against its input, written to ``report``."""
    from ..evaluate import evaluate_video

    return evaluate_video(input, output, report=report, overwrite=True, quiet=True, **part)


class Previews:
    """One worker process for previews, started at the first one. A worker that dies (killed, out
    of memory) is replaced, and the request it had is tried once more in the new one."""

    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def frames(self, path: Path, times: list[float] | None, model_options: dict, part: dict) -> Future:
        return self._run(_preview, str(path), times, model_options, part)

    def keyframes(self, path: Path, folder: Path, model_options: dict, part: dict) -> Future:
        return self._run(_keyframes, str(path), str(folder), model_options, part)

    def clip(self, path: Path, folder: Path, start: float, seconds: float, options: dict) -> Future:
        return self._run(_clip, str(path), str(folder), start, seconds, options)

    def quality(self, input: Path, output: Path, report: Path, part: dict) -> Future:
        return self._run(_quality, str(input), str(output), str(report), part)

    def _run(self, function, *args) -> Future:
        result: Future = Future()

        def attempt(tries_left: int) -> None:
            pool = self._live_pool()
            try:
                submitted = pool.submit(function, *args)
            except BrokenProcessPool:  # it died between two requests
                return died(pool, tries_left)
            submitted.add_done_callback(lambda f: settle(f, pool, tries_left))

        def settle(f: Future, pool, tries_left: int) -> None:
            if result.done():  # cancelled: the page stopped waiting
                return
            error = f.exception()
            if isinstance(error, BrokenProcessPool):
                died(pool, tries_left)
            elif error is not None:
                result.set_exception(error)
            else:
                result.set_result(f.result())

        def died(pool, tries_left: int) -> None:
            self._discard(pool)
            if result.done():
                return
            if tries_left:
                attempt(tries_left - 1)
            else:
                result.set_exception(VidcolorError("the preview worker died twice on this request (killed, or out "
                                                   "of memory): try a smaller input size or a shorter preview"))

        attempt(1)
        return result

    def _live_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                import multiprocessing
                import os

                # Started by whichever thread asks (a dead worker's retry: the pool's own thread, which ends).
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=die_with_parent, initargs=(os.getpid(), False))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (once: another request may have replaced it already)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
