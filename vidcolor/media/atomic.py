"""Outputs appear complete or not at all: written under a temporary name, renamed at the end."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import VidcolorError


@contextmanager
def atomic_output(dst: str | Path):
    """Yield a temporary path next to ``dst`` (same extension, so format guessing works).

    On success it is renamed over ``dst``; on any error or interrupt it is removed.
    """
    dst = Path(dst)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=f".partial{dst.suffix}", dir=dst.parent)
    except OSError as e:
        raise VidcolorError(f"{dst}: cannot write to {dst.parent or '.'} ({e.strerror})") from None
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def check_output_path(src: str | Path, dst: str | Path, overwrite: bool) -> None:
    """Refuse, before any work, outputs that would overwrite the input or an existing file."""
    src, dst = Path(src), Path(dst)
    same = src.resolve() == dst.resolve() or (dst.exists() and src.exists() and os.path.samefile(src, dst))
    if same:
        raise VidcolorError(f"{dst}: the output is the input file; choose another output path")
    if dst.is_dir():
        raise VidcolorError(f"{dst}: is a folder; give an output file name")
    if dst.exists() and not overwrite:
        raise VidcolorError(f"{dst}: already exists (use --overwrite to replace it)")
    parent = dst.parent if str(dst.parent) else Path(".")
    if not parent.is_dir():
        raise VidcolorError(f"{dst}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise VidcolorError(f"{dst}: the folder {parent} is not writable")
