"""`vidcolor keyframes`: one frame per shot, colorized by the model, for a restorer to correct.

The loop restorers use: write a keyframe per shot (its sharpest frame among its first
``PICK_FROM``, or also one every ``every`` seconds), correct any of them in an image editor, and
colorize with ``--references`` on the same folder. Each file is named by its frame number on the
picture's clock (``000240.png``), which ``--references`` reads back; what was written is recorded
(``.vidcolor-keyframes.json``, each file's SHA-256), so a keyframe left as it was counts for
nothing: only the corrected ones are references.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from . import lab
from .errors import OptionError, VidcolorError, option
from .media.atomic import atomic_output
from .media.decode import decode_frames, expected_frames
from .media.images import write_image
from .media.probe import frame_rate, open_input, video_stream
from .console import for_run
from .media.timeline import make_span, picture_extent
from .models import Colorizer
from .options import RunOptions
from .progress import Listener
from .run.colorizer import load_colorizer
from .temporal import MotionTracker
from .temporal.reference_files import RECORD

PICK_FROM = 12  # frames at the start of a shot among which the sharpest is its keyframe
NAME_DIGITS = 6


@dataclass
class Keyframes:
    folder: str
    frames: list[int]  # frame numbers written, on the picture's clock
    shots: int  # found in the part decoded


def frame_name(number: int) -> str:
    return f"{number:0{NAME_DIGITS}d}.png"


def export_keyframes(src, out_dir, *, colorizer: Colorizer | None = None, every: float | None = None,
                     start=None, duration=None, overwrite: bool = False, quiet: bool = False,
                     on_progress: Listener | None = None, **model_options) -> Keyframes:
    """Write a colorized keyframe of each shot of the video ``src`` (and one every ``every``
    seconds within long shots) into the folder ``out_dir``, named as ``--references`` reads them."""
    src, out_dir = Path(src), Path(out_dir)
    if every is not None and not every > 0:
        raise OptionError("every", f"{option('every')} {every} must be more than 0 seconds")
    if out_dir.exists() and not out_dir.is_dir():
        raise VidcolorError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.glob("[0-9]*.png")) and not overwrite:
        raise VidcolorError(f"{out_dir}: already holds keyframes (use {option('overwrite')} to replace them)")
    options = RunOptions.from_mapping(model_options, start=start, duration=duration)
    progress = for_run(quiet, on_progress)
    start_s, duration_s = options.part.start, options.part.duration
    with open_input(src) as container:
        stream = video_stream(container, src)
        span = make_span(container, stream, src, start_s, duration_s)
        rate = frame_rate(stream) or Fraction(24)
        origin = picture_extent(container, stream, src)[0]
        total = expected_frames(stream, container, span)
        net = load_colorizer(options.model, colorizer, progress)
        out_dir.mkdir(parents=True, exist_ok=True)
        written: dict[str, str] = {}

        def keep(number: int, rgb: np.ndarray) -> int:
            """Colorize and write one keyframe at once: a film's worth never waits in memory."""
            path = out_dir / frame_name(number)
            write_image(path, cv2.cvtColor(net.colorize(rgb), cv2.COLOR_RGB2BGR))
            written[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
            return number

        tracker = MotionTracker()
        shot: list[tuple[float, int, np.ndarray]] = []  # (sharpness, number, rgb) of its first frames
        shots, last = 0, None  # the shot's last keyframe, once its first is chosen
        with progress.task("keyframes", f"keyframes of {src.name}", total) as task:
            for frame in decode_frames(container, stream, span, src):
                number = round((frame.pts * stream.time_base - origin) * rate)
                L = lab.lightness(lab.to_float(frame.rgb))
                if tracker.push(L).pair is None:  # a shot starts
                    if shot:
                        keep(*_sharpest(shot))
                    shot, last, shots = [], None, shots + 1
                if last is None:
                    shot.append((_sharpness(L), number, frame.rgb))
                    if len(shot) == PICK_FROM:
                        last, shot = keep(*_sharpest(shot)), []
                elif every is not None and (number - last) / rate >= every:
                    last = keep(number, frame.rgb)
                task.advance()
            if shot:
                keep(*_sharpest(shot))
    if not written:
        raise VidcolorError(f"{src}: no video frames" + ("" if span.whole else f" in the requested part ({span.where()})"))
    with atomic_output(out_dir / RECORD) as tmp:
        tmp.write_text(json.dumps({"source": str(src), "files": written}, indent=2) + "\n")
    return Keyframes(str(out_dir), sorted(int(Path(n).stem) for n in written), shots)


def _sharpness(L: np.ndarray) -> float:
    """Variance of the Laplacian of a thumbnail: low in fades, dissolves and motion blur."""
    small = cv2.resize(L, (160, max(1, round(160 * L.shape[0] / L.shape[1]))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_32F).var())


def _sharpest(shot) -> tuple[int, np.ndarray]:
    """(number, rgb) of the sharpest of a shot's first frames."""
    _, number, rgb = max(shot, key=lambda s: s[0])
    return number, rgb
