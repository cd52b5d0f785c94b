"""Reference keyframes on disk: which frame each one is, read and checked before anything is decoded.

A folder given to ``--references`` holds color images named by the frame they are of, counted
from the film's first picture: ``000240.png`` (frame 240, the name ``vidcolor keyframes``
writes), or by timecode on the picture's clock, ``00-00-10-00.png`` (HH-MM-SS-FF, frames at the
film's rate). ``--reference FILE@TIME`` names one with TIME as ``--start`` takes it (seconds or
[HH:]MM:SS.ms). Only the chroma of a reference is used; an RGBA one is partial (its opaque
pixels are the reference).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidcolorError, option
from ..media.images import IMAGE_EXTENSIONS, read_image
from ..media.interlace import Interlace
from ..media.probe import frame_rate
from ..media.timeline import clock, parse_time, picture_extent
from ..progress import QUIET, Progress
from ..provenance import sha256_file
from .frame_reference import reference_from_image
from .hints import read_hints
from .references import ChromaGuide

# What `vidcolor keyframes` wrote, so that a keyframe left as it was is not taken for a reference.
RECORD = ".vidcolor-keyframes.json"
_FRAME = re.compile(r"^(\d+)$")
_TIMECODE = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})$")


def reference_frames(specs, rate: Fraction, frames: int | None, progress: Progress = QUIET) -> dict[int, Path]:
    """``{frame number: file}`` of ``specs`` (folders, and ``FILE@TIME`` strings), every name and
    time checked against the film (``rate`` frames a second; ``frames`` in it, where known)."""
    found: dict[int, Path] = {}
    for spec in specs:
        spec = str(spec)
        path = Path(spec)
        if path.is_dir():
            pairs = _folder(path, rate, progress)
        elif "@" in spec:
            file, _, when = spec.rpartition("@")
            seconds = parse_time(when, f"{option('reference')} {spec}")
            pairs = [(round(Fraction(seconds).limit_denominator(1_000_000) * rate), Path(file))]
        else:
            raise VidcolorError(f"{spec}: not a folder of references, nor FILE@TIME (for one reference)")
        for number, file in pairs:
            if frames is not None and number >= frames:
                raise VidcolorError(f"{file}: frame {number} ({clock(number / rate)}) is past the end of the film, "
                                    f"which has {frames} frames ({clock(frames / rate)})")
            if number in found and found[number] != file:
                raise VidcolorError(f"{file} and {found[number]} are both references for frame {number}")
            found[number] = file
    return found


def _folder(folder: Path, rate: Fraction, progress: Progress) -> list[tuple[int, Path]]:
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))
    if not images:
        raise VidcolorError(f"{folder}: no reference images in this folder (named by frame, 000240.png, or "
                            "timecode, 00-00-10-00.png)")
    same = untouched(folder)
    if same:
        progress.note(f"{folder}: {len(same)} of {len(images)} keyframes are as vidcolor keyframes wrote them: "
                      "only the corrected ones are references")
        images = [p for p in images if p.name not in same]
    pairs = []
    for image in images:
        stem = image.stem
        if m := _FRAME.match(stem):
            pairs.append((int(m[1]), image))
        elif m := _TIMECODE.match(stem):
            h, mi, s, f = map(int, m.groups())
            per_second = round(rate)
            if f >= per_second:
                raise VidcolorError(f"{image}: frame {f} of a second in a timecode, at {per_second} frames a second")
            pairs.append((round((h * 3600 + mi * 60 + s) * rate) + f, image))
        else:
            raise VidcolorError(f"{image}: a reference is named by its frame number (000240.png) or timecode "
                                "(00-00-10-00.png)")
    return pairs


def untouched(folder: Path) -> set[str]:
    """Names of the keyframes in ``folder`` still as ``vidcolor keyframes`` wrote them."""
    try:
        files = json.loads((folder / RECORD).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {name for name, digest in files.items()
            if (folder / name).is_file() and hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest}


def read_reference(path: Path) -> np.ndarray:
    """A reference as (H, W, 3) RGB or (H, W, 4) RGBA uint8."""
    bgr, alpha = read_image(path)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return rgb if alpha is None else np.dstack([rgb, alpha])


def check_references(found: dict[int, Path], frame_shape: tuple[int, int]) -> None:
    """Each reference readable and of the film's aspect ratio (``frame_shape``: H, W), before any
    decoding. They are read again when their frame comes: a film's worth of keyframes stays on disk."""
    for number, image in found.items():
        name = f"reference for frame {number}" if isinstance(image, np.ndarray) else str(image)
        reference_from_image(image if isinstance(image, np.ndarray) else read_reference(Path(image)), frame_shape,
                             (8, 8), name)


def identity(found: dict) -> list[str]:
    """What the references are, for a run's settings: each frame with its file's (or array's) SHA-256."""
    return [f"{n}:{hashlib.sha256(v.tobytes() if isinstance(v, np.ndarray) else Path(v).read_bytes()).hexdigest()[:16]}"
            for n, v in sorted(found.items())]


class KeyframeFiles(Mapping):
    """``{position: reference}`` as the guide takes it, each keyframe file read only when its
    frame asks for it: a film's worth of keyframes stays on disk."""

    def __init__(self, given: dict):
        self.given = given

    def __getitem__(self, position: int):
        value = self.given[position]
        return read_reference(value) if isinstance(value, (str, Path)) else value

    def __iter__(self):
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)


@dataclass(frozen=True)
class Carry:
    """The colors references carry across a segment's edges: the state a segment starts from
    (None: nothing before it), and where to save the state for the next segment, taken before
    its first frame at or after ``save_at`` (seconds on the input's clock)."""

    load: Path | None = None
    save: Path | None = None
    save_at: Fraction | None = None


@dataclass
class FilmReferences:
    """What a run needs to guide its colors: by frame number, each keyframe (a file or an image)
    or list of hints; and the clock that numbers the frames."""

    files: dict
    origin: Fraction  # the first picture's time on the file's clock
    rate: Fraction
    identity: list[str]

    def make(self, workers=None):
        """The guide (``workers``: ``ChromaGuide``'s)."""
        return ChromaGuide(KeyframeFiles(self.files), workers=workers)

    def kind(self, position: int) -> str | None:
        given = self.files.get(position)
        return None if given is None else "hints" if isinstance(given, (list, tuple)) else "keyframe"

    def times(self) -> list[Fraction]:
        """When the frames with references are, in seconds on the input's clock."""
        return [self.origin + Fraction(n) / self.rate for n in sorted(self.files)]

    def position(self, t: Fraction) -> int:
        return round((t - self.origin) * self.rate)


def film_references(src: Path, container, stream, references, hints, interlace: Interlace,
                    progress: Progress = QUIET) -> FilmReferences:
    """The references and hints of a film, named, read and checked before anything is decoded."""
    rate = interlace.output_rate(frame_rate(stream)) or Fraction(24)
    frames = interlace.output_frames(stream.frames) or None
    cc = stream.codec_context
    if isinstance(references, dict):
        files = {int(k): v for k, v in references.items()}
    else:
        specs = references if isinstance(references, (list, tuple)) else [references] if references else []
        files = reference_frames(specs, rate, frames, progress)
    check_references(files, (cc.height, cc.width))
    marks = read_hints(hints, rate, frames, (cc.height, cc.width)) if hints else {}
    both = sorted(set(files) & set(marks))
    if both:
        raise VidcolorError(f"{hints}: frame {both[0]} has both a keyframe ({files[both[0]]}) and hints; give "
                            "one of them")
    made = identity(files) + ([f"hints:{sha256_file(Path(hints))[:16]}"] if hints else [])
    return FilmReferences({**files, **marks}, picture_extent(container, stream, src)[0], rate, made)
