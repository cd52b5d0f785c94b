"""Steering a job's colors: its shots as keyframes (``vidcolor keyframes``), corrected ones sent
back, color points (hints) clicked onto them; the job's next run follows them (the references
machinery, given to its one-film batch). All of it lives in the job's folder:
``keyframes/`` (with the record of what was written, so an untouched keyframe counts for
nothing) and ``hints.json``."""
from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidcolorError
from ..media.atomic import atomic_output
from ..temporal.reference_files import check_references, untouched

KEYFRAME_NAME = re.compile(r"^\d{6,9}\.png$")
MAX_KEYFRAME_BYTES = 256 * 2**20
MAX_KEYFRAME_PIXELS = 100_000_000  # 8K is 33 million: more is a decompression bomb, not a frame
# A corrected keyframe may be painted at up to twice the film's size (it is resized to the frame):
# its decoding then stays within a few times a frame's memory.
KEYFRAME_SCALE = 2


def keyframes_folder(job_folder: Path) -> Path:
    return job_folder / "keyframes"


def hints_file(job_folder: Path) -> Path:
    return job_folder / "hints.json"


def references_of(job_folder: Path) -> dict:
    """The options that make a job's run follow its keyframes and hints, where it has any."""
    folder, hints = keyframes_folder(job_folder), hints_file(job_folder)
    out = {}
    if folder.is_dir() and any(folder.glob("[0-9]*.png")):
        out["references"] = str(folder)
    if hints.is_file():
        out["hints"] = str(hints)
    return out


def film_clock(path: Path) -> tuple[Fraction, int | None, tuple[int, int]]:
    """(frames a second, frames in the film where known, (height, width)) of a job's input. Where
    the container does not count its frames (Matroska), they are estimated from its duration,
    a frame over: a point past the end is then refused as it is sent, not by the run."""
    import av

    from ..media.probe import frame_rate, open_input, video_stream

    with open_input(path) as container:
        stream = video_stream(container, path)
        cc = stream.codec_context
        rate = frame_rate(stream) or Fraction(24)
        frames = stream.frames or None
        if frames is None:
            seconds = stream.duration * stream.time_base if stream.duration else \
                Fraction(container.duration, av.time_base) if container.duration else None
            frames = math.ceil(seconds * rate) + 1 if seconds else None
        return rate, frames, (cc.height, cc.width)


def list_keyframes(job_folder: Path, rate: Fraction) -> list[dict]:
    folder = keyframes_folder(job_folder)
    if not folder.is_dir():
        return []
    same = untouched(folder)
    return [{"name": p.name, "frame": int(p.stem), "time": float(int(p.stem) / rate),
             "corrected": p.name not in same} for p in sorted(folder.glob("[0-9]*.png"))]


def corrected(job_folder: Path) -> bool:
    folder = keyframes_folder(job_folder)
    return folder.is_dir() and any(p.name not in untouched(folder) for p in folder.glob("[0-9]*.png"))


def keyframe_path(job_folder: Path, name: str) -> Path:
    """A keyframe's file, by a name that can only be a frame number's."""
    if not KEYFRAME_NAME.match(name):
        raise VidcolorError(f"{name}: a keyframe is named by its frame number, 000240.png")
    return keyframes_folder(job_folder) / name


def save_keyframe(job_folder: Path, name: str, data: bytes, frame_shape: tuple[int, int]) -> None:
    """Keep a corrected keyframe sent by the page: any image OpenCV reads, 8-bit RGB or RGBA (its
    transparent pixels are left to the model), of the film's aspect ratio; kept as PNG."""
    path = keyframe_path(job_folder, name)
    if not path.is_file():
        raise VidcolorError(f"{name}: no such keyframe of this job (export the keyframes first)")
    _check_size(name, data, frame_shape)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise VidcolorError(f"{name}: not an image this server can read")
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8) if image.dtype == np.uint16 else None
    if image is None or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise VidcolorError(f"{name}: a keyframe is an 8-bit color image, RGB or RGBA")
    rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    check_references({int(path.stem): rgb}, frame_shape)
    with atomic_output(path) as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise VidcolorError(f"{name}: cannot write it")


def save_hints(job_folder: Path, hints: list, rate: Fraction, frames: int | None,
               frame_shape: tuple[int, int]) -> None:
    """Keep the job's color points, checked as ``--hints`` checks a file (an empty list: none)."""
    from ..temporal.hints import read_hints

    path = hints_file(job_folder)
    if not isinstance(hints, list):
        raise VidcolorError("hints: a list of color points")
    if not hints:
        path.unlink(missing_ok=True)
        return
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(hints, indent=1) + "\n")
        read_hints(tmp, rate, frames, frame_shape)


def _check_size(name: str, data: bytes, frame_shape: tuple[int, int]) -> None:
    """Refuse an image whose header announces more pixels than the film's frame can use, before
    decoding it (a few bytes of PNG can unpack into gigabytes)."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # the size is judged here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width = height = None
    except (UnidentifiedImageError, OSError, ValueError):
        raise VidcolorError(f"{name}: not an image this server can read") from None
    if width is None:
        raise VidcolorError(f"{name}: far larger than any frame of a film")
    most = min(MAX_KEYFRAME_PIXELS, KEYFRAME_SCALE ** 2 * max(1, frame_shape[0] * frame_shape[1]))
    if width * height > most:
        raise VidcolorError(f"{name}: {width}x{height} is far larger than the film's frames "
                            f"({frame_shape[1]}x{frame_shape[0]}); send it at most {KEYFRAME_SCALE}x their size")
