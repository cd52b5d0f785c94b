"""Read and write still images: OpenCV first (as the official DDColor does), Pillow for the rest."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import OUT_OF_SPACE, VidcolorError, first_line, write_failure
from ..provenance import embed, write_sidecar
from .atomic import atomic_output

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2",
                    ".pbm", ".pgm", ".ppm", ".pnm", ".pfm", ".sr", ".ras", ".exr", ".hdr", ".pic",
                    ".avif", ".heic", ".tga", ".ico", ".pcx", ".qoi"}
_ALPHA_EXTENSIONS = {".png", ".tif", ".tiff", ".webp", ".exr", ".tga", ".avif"}


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(BGR uint8 image, alpha uint8 or None). 16-bit images are read as 8-bit, like cv2.imread."""
    path = Path(path)
    if not path.is_file():
        raise VidcolorError(f"{path}: no such file")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    alpha = None
    if bgr is not None:
        if path.suffix.lower() not in _ALPHA_EXTENSIONS:
            return bgr, None
        # IMREAD_COLOR (as the official code reads) drops alpha; only formats with alpha pay a second decode.
        full = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if full is not None and full.ndim == 3 and full.shape[2] == 4 and full.shape[:2] == bgr.shape[:2]:
            alpha = _to_uint8(full[:, :, 3])
        return bgr, alpha
    try:
        from PIL import Image

        with Image.open(path) as im:
            im.load()
            if "A" in im.getbands() or "transparency" in im.info:
                rgba = np.asarray(im.convert("RGBA"))
                return cv2.cvtColor(rgba[:, :, :3], cv2.COLOR_RGB2BGR), rgba[:, :, 3].copy()
            return cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2BGR), None
    except Exception as e:
        raise VidcolorError(f"{path}: not a readable image ({first_line(e)})") from None


def write_image(path: str | Path, bgr: np.ndarray, alpha: np.ndarray | None = None,
                provenance: dict | None = None) -> bool:
    """Write atomically, with ``provenance`` in the file where its format holds text, else in a
    sidecar. Returns False when an alpha channel had to be dropped for this format."""
    path = Path(path)
    keep_alpha = alpha is not None and path.suffix.lower() in _ALPHA_EXTENSIONS
    image = np.dstack([bgr, alpha]) if keep_alpha else bgr
    sidecar = False
    with atomic_output(path) as tmp:
        try:
            ok = cv2.imwrite(str(tmp), image)
        except cv2.error:
            ok = False
        if not ok:
            _write_with_pillow(tmp, image, path)
        if provenance is not None:
            tagged = embed(tmp.read_bytes(), provenance)
            if tagged is None:
                sidecar = True
            else:
                tmp.write_bytes(tagged)
    if sidecar:
        write_sidecar(path, provenance)
    return alpha is None or keep_alpha


def _write_with_pillow(tmp: Path, image: np.ndarray, path: Path) -> None:
    from PIL import Image

    code = cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
    try:
        Image.fromarray(cv2.cvtColor(image, code)).save(tmp)
    except Exception as e:
        if getattr(e, "errno", None) in OUT_OF_SPACE:
            raise write_failure(path, e) from None
        raise VidcolorError(f"{path}: cannot write this image format ({e})") from None


def _to_uint8(channel: np.ndarray) -> np.ndarray:
    if channel.dtype == np.uint8:
        return channel
    if channel.dtype == np.uint16:
        return (channel.astype(np.float32) / 257.0).round().astype(np.uint8)
    return (np.clip(channel.astype(np.float32), 0, 1) * 255).round().astype(np.uint8)
