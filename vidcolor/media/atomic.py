"""Outputs appear complete or not at all: written under a temporary name, renamed at the end.

A temporary file is locked while it is written, so that one left behind by a run that was killed
(SIGKILL, a power cut) can be told from one still being written, and removed.
"""
from __future__ import annotations

import glob
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import VidcolorError, option

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale temporary files are then left alone
    fcntl = None

_PARTIAL = ".partial"


@contextmanager
def atomic_output(dst: str | Path):
    """Yield a temporary path next to ``dst`` (same extension, so format guessing works).

    On success it is renamed over ``dst``; on any error or interrupt it is removed.
    """
    dst = Path(dst)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=f"{_PARTIAL}{dst.suffix}", dir=dst.parent)
    except OSError as e:
        raise VidcolorError(f"{dst}: cannot write to {dst.parent or '.'} ({e.strerror})") from None
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until the end: the file is in use
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)


def remove_stale_partials(dst: str | Path) -> None:
    """Remove the temporary files of ``dst`` that no running process is writing (left by a run
    that was killed)."""
    dst = Path(dst)
    for tmp in (dst.parent if str(dst.parent) else Path(".")).glob(
            f"{glob.escape('.' + dst.stem)}.*{_PARTIAL}{glob.escape(dst.suffix)}"):
        fd = hold_lock(tmp, create=False)
        if fd is not None and fd is not False:  # no one holds it: its writer is gone
            tmp.unlink(missing_ok=True)
            os.close(fd)


def hold_lock(path: Path, create: bool = True) -> int | bool | None:
    """An exclusive lock on ``path`` as an open descriptor (close it to let go; the kernel lets go
    when the process dies, however it dies); False where another process holds it; None where
    this system has no such locks or the file is gone."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    return fd


def check_output_path(src: str | Path, dst: str | Path, overwrite: bool) -> None:
    """Refuse, before any work, outputs that would overwrite the input or an existing file."""
    src, dst = Path(src), Path(dst)
    same = src.resolve() == dst.resolve() or (dst.exists() and src.exists() and os.path.samefile(src, dst))
    if same:
        raise VidcolorError(f"{dst}: the output is the input file; choose another output path")
    if dst.is_dir():
        raise VidcolorError(f"{dst}: is a folder; give an output file name")
    if dst.exists() and not overwrite:
        raise VidcolorError(f"{dst}: already exists (use {option('overwrite')} to replace it)")
    parent = dst.parent if str(dst.parent) else Path(".")
    if not parent.is_dir():
        raise VidcolorError(f"{dst}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise VidcolorError(f"{dst}: the folder {parent} is not writable")
