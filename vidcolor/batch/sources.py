"""What a batch works on: files, folders (recursively) and glob patterns, and where each output goes.

A folder's tree is mirrored under the output folder; a file named on its own goes at the top;
a glob's matches keep their place below the pattern's fixed part (``archive/**/*.mp4`` mirrors
``archive``).
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import VidcolorError
from ..media.encode import UNSUITABLE
from ..media.images import is_image_path

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".m2v", ".vob", ".ts",
                    ".m2ts", ".mts", ".mxf", ".wmv", ".asf", ".flv", ".ogv", ".3gp", ".dv", ".nut", ".y4m", ".gif"}
# What a batch picks up beside a film NAME.ext: its keyframes and its color hints.
REFERENCES_SUFFIX, HINTS_SUFFIX = ".refs", ".hints.json"
# Inputs whose container cannot hold the colorized film: the output is written as .mp4.
_REWRITTEN_SUFFIXES = {".gif": ".mp4"}
assert all(s.lstrip(".") in UNSUITABLE for s in _REWRITTEN_SUFFIXES)


@dataclass(frozen=True)
class Source:
    path: Path  # absolute
    output: Path  # relative to the output folder
    kind: str  # "video" or "image"


def is_media_path(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in VIDEO_EXTENSIONS or is_image_path(path)


def find_sources(specs: list[str | Path], out_dir: Path) -> list[Source]:
    """Every input named by ``specs`` (paths, or glob patterns), in a stable order, each with its
    own output path."""
    out_dir = out_dir.resolve()
    found: dict[Path, Source] = {}
    for spec in specs:
        for path, rel in _expand(str(spec), out_dir):
            path = path.resolve()
            if path not in found:
                found[path] = Source(path, _output_name(rel), "image" if is_image_path(path) else "video")
    outputs: dict[Path, Path] = {}
    for s in found.values():
        other = outputs.setdefault(s.output, s.path)
        if other != s.path:
            raise VidcolorError(f"{s.path} and {other} would both be written to {out_dir / s.output}; "
                                "run them as separate batches")
    return list(found.values())


def _expand(spec: str, out_dir: Path):
    path = Path(spec)
    if glob.has_magic(spec):
        base = _fixed_part(spec)
        matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
        files = [m for m in matches if m.is_file() and is_media_path(m) and not _inside(m, out_dir)
                 and not any(p.name.endswith(REFERENCES_SUFFIX) for p in m.parents)]
        if not files:
            raise VidcolorError(f"{spec}: matches no video or image files")
        return [(m, m.relative_to(base)) for m in files]
    if path.is_dir():
        files = list(_walk(path, out_dir))
        if not files:
            raise VidcolorError(f"{spec}: no video or image files in this folder")
        return [(f, f.relative_to(path)) for f in files]
    if not path.exists():
        raise VidcolorError(f"{spec}: no such file or folder")
    return [(path, Path(path.name))]


def references_beside(film: Path) -> tuple[Path | None, Path | None]:
    """The references beside a film that a batch picks up: the folder NAME.refs (keyframes) and
    the file NAME.hints.json, NAME being the film's name without its extension."""
    refs, hints = film.with_name(film.stem + REFERENCES_SUFFIX), film.with_name(film.stem + HINTS_SUFFIX)
    return (refs if refs.is_dir() else None), (hints if hints.is_file() else None)


def _walk(folder: Path, out_dir: Path):
    for root, dirs, files in os.walk(folder):
        root = Path(root)
        # Hidden folders (the batch's own .vidcolor among them), the output folder and a film's
        # references (NAME.refs) are not input.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith(REFERENCES_SUFFIX)
                         and not _inside(root / d, out_dir))
        for name in sorted(files):
            f = root / name
            if not name.startswith(".") and is_media_path(f):
                yield f


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def _fixed_part(pattern: str) -> Path:
    parts = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _output_name(rel: Path) -> Path:
    suffix = _REWRITTEN_SUFFIXES.get(rel.suffix.lower())
    return rel.with_suffix(suffix) if suffix else rel
