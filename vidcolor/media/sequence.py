"""Image sequences read as one video: a printf pattern (``scans/%06d.dpx``) or a folder of frames.

FFmpeg's image2 demuxer reads them (any format it decodes: DPX, TIFF, PNG, EXR, JPEG ...). The
files carry no frame rate, so the user gives one (24 by default); their order is the pattern's
numbering, or for a folder the file names in natural order (``scan_2`` before ``scan_10``).
A folder's frames are read through a private folder of links numbered in that order, so every
image of it is read, whatever its name.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from ..errors import VidcolorError, option
from .images import is_image_path

PATTERN = re.compile(r"%0?\d*d")
DEFAULT_FPS = 24


def is_pattern(path: str | Path) -> bool:
    return bool(PATTERN.search(Path(path).name))


def sequence_input(path: Path, fps: float | None) -> tuple[str, dict[str, str], Path | None]:
    """The image2 URL and options for the pattern or folder ``path``, and the folder of links made
    for a folder (to remove once the sequence is read), or None."""
    rate = DEFAULT_FPS if fps is None else fps
    if not rate > 0:
        raise VidcolorError(f"{option('fps')} {fps} must be more than 0")
    options = {"framerate": f"{rate:g}"}
    if is_pattern(path):
        if not path.parent.is_dir():
            raise VidcolorError(f"{path}: the folder {path.parent} does not exist")
        if not any(path.parent.glob(PATTERN.sub("[0-9]*", path.name))):
            raise VidcolorError(f"{path}: no files match this pattern")
        # image2 finds the first number itself, if it is below 5; past that the user must say.
        return str(path), options, None
    frames = folder_frames(path)
    kinds = Counter(_FORMAT_OF.get(p.suffix.lower(), p.suffix.lower()) for p in frames)
    if len(kinds) > 1:
        counts = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        raise VidcolorError(f"{path}: a folder read as one film must hold one image format, and this one mixes "
                            f"{counts}: convert them to one format (the frames' order is their names')")
    links = Path(tempfile.mkdtemp(prefix="vidcolor-sequence-"))
    suffix = frames[0].suffix.lower()
    for i, frame in enumerate(frames):
        os.symlink(frame.resolve(), links / f"{i:08d}{suffix}")
    return str(links / f"%08d{suffix}"), {**options, "start_number": "0"}, links


def folder_frames(path: Path) -> list[Path]:
    """Every image file in the folder ``path``, in natural order of names."""
    frames = sorted((p for p in path.iterdir() if p.is_file() and is_image_path(p)), key=natural_key)
    if not frames:
        raise VidcolorError(f"{path}: no image files in this folder to read as a sequence")
    return frames


def natural_key(path: Path) -> list:
    """Sort key for names as people number them: ``scan_2`` before ``scan_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def remove_links(links: Path | None) -> None:
    if links is not None:
        shutil.rmtree(links, ignore_errors=True)


# Extensions of the same image format (FFmpeg reads a sequence with one decoder).
_FORMAT_OF = {".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".tif": "tiff", ".tiff": "tiff", ".png": "png",
              ".dpx": "dpx", ".exr": "exr"}
