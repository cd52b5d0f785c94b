"""Read and write still images: OpenCV first (as the official DDColor does), Pillow for the rest."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import OUT_OF_SPACE, VidcolorError, first_line, write_failure
from ..provenance import embed, write_sidecar
from .atomic import atomic_output
from .image_meta import ImageMeta, embed_meta, write_tiff

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2",
                    ".pbm", ".pgm", ".ppm", ".pnm", ".pfm", ".sr", ".ras", ".exr", ".hdr", ".pic",
                    ".avif", ".heic", ".tga", ".ico", ".pcx", ".qoi"}
_ALPHA_EXTENSIONS = {".png", ".tif", ".tiff", ".webp", ".exr", ".tga", ".avif"}
_DEEP_EXTENSIONS = {".png", ".tif", ".tiff"}  # where a 16-bit scan stays 16-bit


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path, deep: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(BGR image, alpha or None), upright as its EXIF orientation says. uint8, as cv2.imread
    gives it (and the official DDColor reads); with ``deep``, a 16-bit PNG or TIFF is uint16
    (its alpha too)."""
    path = Path(path)
    if not path.is_file():
        raise VidcolorError(f"{path}: no such file")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | (cv2.IMREAD_ANYDEPTH if deep else 0))
    if bgr is not None and bgr.dtype not in (np.uint8, np.uint16):  # float (EXR, HDR): read as 8-bit
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    alpha = None
    if bgr is not None:
        if path.suffix.lower() not in _ALPHA_EXTENSIONS:
            return bgr, None
        # IMREAD_COLOR (as the official code reads) drops alpha; only formats with alpha pay a second decode.
        full = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if full is not None and full.ndim == 3 and full.shape[2] == 4 and full.shape[:2] == bgr.shape[:2]:
            alpha = _to_uint8(full[:, :, 3]) if bgr.dtype == np.uint8 else _to_uint16(full[:, :, 3])
        return bgr, alpha
    try:
        from PIL import Image, ImageOps

        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)  # upright, as OpenCV gives the others
            if "A" in im.getbands() or "transparency" in im.info:
                rgba = np.asarray(im.convert("RGBA"))
                return cv2.cvtColor(rgba[:, :, :3], cv2.COLOR_RGB2BGR), rgba[:, :, 3].copy()
            return cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2BGR), None
    except Exception as e:
        raise VidcolorError(f"{path}: not a readable image ({first_line(e)})") from None


def write_image(path: str | Path, bgr: np.ndarray, alpha: np.ndarray | None = None,
                provenance: dict | None = None, meta: ImageMeta = ImageMeta()) -> list[str]:
    """Write atomically, with the scan's ``meta`` (DPI, ICC profile, EXIF) and ``provenance`` in
    the file where its format holds them (provenance else in a sidecar). 16-bit stays 16-bit where
    the format holds it. Returns what was lost, in words (for a warning)."""
    path = Path(path)
    suffix = path.suffix.lower()
    lost = []
    keep_alpha = alpha is not None and suffix in _ALPHA_EXTENSIONS
    if alpha is not None and not keep_alpha:
        lost.append("its alpha channel (transparency): this format has none")
    if bgr.dtype == np.uint16 and suffix not in _DEEP_EXTENSIONS:
        bgr = _to_uint8(bgr)
        alpha = None if alpha is None else _to_uint8(alpha)
        lost.append("its 16 bits a channel: this format holds 8 (write .png or .tif to keep them)")
    image = np.dstack([bgr, alpha]) if keep_alpha else bgr  # read_image gives alpha at the picture's depth
    sidecar = False
    with atomic_output(path) as tmp:
        if suffix in (".tif", ".tiff"):
            lost += write_tiff(tmp, image, meta, provenance)
        else:
            try:
                ok = cv2.imwrite(str(tmp), image)
            except cv2.error:
                ok = False
            if not ok:
                _write_with_pillow(tmp, image, path)
            data, not_held = embed_meta(tmp.read_bytes(), meta)
            lost += [f"its {what}: this format does not hold it here" for what in not_held]
            if provenance is not None:
                tagged = embed(data, provenance)
                sidecar = tagged is None
                data = tagged or data
            tmp.write_bytes(data)
    if sidecar:
        write_sidecar(path, provenance)
    return lost


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


def _to_uint16(channel: np.ndarray) -> np.ndarray:
    if channel.dtype == np.uint16:
        return channel
    if channel.dtype == np.uint8:
        return channel.astype(np.uint16) * 257
    return (np.clip(channel.astype(np.float32), 0, 1) * 65535).round().astype(np.uint16)
