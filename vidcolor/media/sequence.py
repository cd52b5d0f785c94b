"""Image sequences read as one video: a printf pattern (``scans/%06d.dpx``) or a folder of frames.

FFmpeg's image2 demuxer reads them (any format it decodes: DPX, TIFF, PNG, EXR, JPEG ...). The
files carry no frame rate, so the user gives one (24 by default); their order is the pattern's
numbering, or for a folder the sorted file names.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..errors import VidcolorError
from .images import is_image_path

PATTERN = re.compile(r"%0?\d*d")
DEFAULT_FPS = 24


def is_pattern(path: str | Path) -> bool:
    return bool(PATTERN.search(Path(path).name))


def sequence_input(path: Path, fps: float | None) -> tuple[str, dict[str, str]]:
    """The image2 URL and options for the pattern or folder ``path``."""
    rate = DEFAULT_FPS if fps is None else fps
    if not rate > 0:
        raise VidcolorError(f"--fps {fps} must be more than 0")
    options = {"framerate": f"{rate:g}"}
    if is_pattern(path):
        if not path.parent.is_dir():
            raise VidcolorError(f"{path}: the folder {path.parent} does not exist")
        if not any(path.parent.glob(PATTERN.sub("[0-9]*", path.name))):
            raise VidcolorError(f"{path}: no files match this pattern")
        # image2 finds the first number itself, if it is below 5; past that the user must say.
        return str(path), options
    suffixes = Counter(p.suffix.lower() for p in path.iterdir() if p.is_file() and is_image_path(p))
    if not suffixes:
        raise VidcolorError(f"{path}: no image files in this folder to read as a sequence")
    suffix, _ = suffixes.most_common(1)[0]
    return str(path / f"*{suffix}"), {**options, "pattern_type": "glob"}
