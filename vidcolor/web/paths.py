"""Files reached by path only under the allowed roots: resolved (``..`` and symlinks followed)
before they are compared, so no spelling and no link leads outside."""
from __future__ import annotations

import os
from pathlib import Path

from ..media.images import is_image_path
from ..batch.sources import is_media_path


class Refused(Exception):
    """A path the server will not touch: ``status`` 403 (outside the roots) or 404 (absent)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def under_roots(path: str, roots: tuple[Path, ...]) -> Path:
    """``path`` (absolute) resolved, where it lies under one of ``roots``. Outside them the answer
    is the same whether the path exists or not, so that it tells nothing of the files there."""
    if not path or "\x00" in path:
        raise Refused(400, "no path given")
    given = Path(path)
    if not given.is_absolute():
        raise Refused(400, f"{path}: give an absolute path, under one of the roots")
    try:
        real = given.resolve()
    except (OSError, RuntimeError):  # a loop of links
        real = None
    if real is None or not any(real == root or real.is_relative_to(root) for root in roots):
        raise Refused(403, f"{path}: outside the folders this server may read")
    if not real.exists():
        raise Refused(404, f"{path}: no such file or folder")
    return real


def listing(folder: Path, roots: tuple[Path, ...]) -> list[dict]:
    """The entries of ``folder`` a user may pick: folders and media files, hidden ones and links
    that leave the roots left out."""
    entries = []
    with os.scandir(folder) as it:
        for e in it:
            if e.name.startswith("."):
                continue
            path = Path(e.path)
            try:
                real = path.resolve(strict=True)
                inside = any(real == r or real.is_relative_to(r) for r in roots)
                is_dir = real.is_dir()
                size = None if is_dir else real.stat().st_size
            except (OSError, RuntimeError):
                continue
            if not inside or not (is_dir or is_media_path(path)):
                continue
            kind = "folder" if is_dir else "image" if is_image_path(path) else "video"
            entries.append({"name": e.name, "path": str(path), "kind": kind, "size": size})
    return sorted(entries, key=lambda e: (e["kind"] != "folder", e["name"].lower()))
