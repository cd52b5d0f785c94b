"""What a scan says besides its pixels, carried to its colorized version: resolution (DPI), the
ICC color profile and EXIF (description, artist, camera, dates ...).

Read with Pillow (headers only). Written into the finished file's bytes where its format holds
them, without re-encoding a pixel: PNG chunks (pHYs, iCCP, eXIf), JPEG segments (the JFIF
density, APP1 Exif, APP2 ICC). TIFF is written whole by tifffile, which takes them as tags (EXIF
as its baseline text tags). Pixels are written upright (the reader turns them as EXIF says), so
the orientation written is 1.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

ORIENTATION = 0x0112
# The EXIF fields a TIFF holds as baseline tags of its own (tifffile writes no EXIF IFD).
TIFF_TEXT_TAGS = {270: "description", 271: "make", 272: "model", 305: "software", 306: "date", 315: "artist",
                  33432: "copyright"}
SUB_IFDS = (0x8769, 0x8825)  # EXIF proper (exposure, dates, ...) and GPS


@dataclass(frozen=True)
class ImageMeta:
    dpi: tuple[float, float] | None = None
    icc: bytes | None = None
    exif: bytes | None = None  # TIFF-structured, without the "Exif\0\0" header; orientation 1
    texts: dict = field(default_factory=dict)  # TIFF_TEXT_TAGS found in the EXIF: {tag: text}

    @property
    def named(self) -> list[str]:
        """What there is to carry, in words."""
        return [w for w, v in (("DPI", self.dpi), ("ICC profile", self.icc), ("EXIF", self.exif)) if v]


def read_meta(path: Path) -> ImageMeta:
    from PIL import Image

    try:
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
            exif = im.getexif()
            icc = im.info.get("icc_profile") or None
        texts = {t: exif[t].strip("\0 ") for t in TIFF_TEXT_TAGS if isinstance(exif.get(t), str) and exif[t].strip()}
        # What describes the picture, not how a file stores it (a TIFF's IFD0 holds both).
        carried = Image.Exif()
        for tag, text in texts.items():
            carried[tag] = text
        if ORIENTATION in exif:
            carried[ORIENTATION] = 1  # the pixels are written upright
        for ifd in SUB_IFDS:
            if sub := exif.get_ifd(ifd):
                carried[ifd] = dict(sub)
        raw = carried.tobytes() if len(carried) else None
    except Exception:  # a format Pillow does not read, or EXIF it cannot make sense of: nothing to carry
        return ImageMeta()
    raw = raw[6:] if raw and raw.startswith(b"Exif\0\0") else raw
    dpi = (float(dpi[0]), float(dpi[1])) if dpi and all(float(d) > 0 for d in dpi) else None
    return ImageMeta(dpi, icc, raw, texts)


def embed_meta(data: bytes, meta: ImageMeta) -> tuple[bytes, list[str]]:
    """``data`` (a PNG or JPEG file) with ``meta`` in it, and what its format could not hold."""
    if not meta.named:
        return data, []
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        chunks = []
        if meta.dpi:
            per_metre = [round(d / 0.0254) for d in meta.dpi]
            chunks.append(png_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)))
        if meta.icc:
            chunks.append(png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(meta.icc)))
        if meta.exif:
            chunks.append(png_chunk(b"eXIf", meta.exif))
        at = data.index(b"IDAT") - 4  # before the pixels, where readers look for them
        return data[:at] + b"".join(chunks) + data[at:], []
    if data.startswith(b"\xff\xd8"):
        fits = meta.exif is None or len(meta.exif) <= _SEGMENT_MAX - 6  # one APP1 segment, "Exif\0\0" first
        return _jpeg_with(data, meta if fits else replace(meta, exif=None)), [] if fits else ["EXIF (over 64 KiB)"]
    return data, meta.named


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


_SEGMENT_MAX = 65533  # bytes a JPEG segment's body can hold


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def after_app_headers(data: bytes) -> int:
    """Where a new JPEG segment goes: after SOI and the APP0 (JFIF) and APP1 (EXIF) segments."""
    at = 2
    while data[at:at + 2] in (b"\xff\xe0", b"\xff\xe1"):
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return at


def _jpeg_with(data: bytes, meta: ImageMeta) -> bytes:
    if meta.dpi and data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\0":  # density: units 1 = dots per inch
        data = data[:13] + struct.pack(">BHH", 1, *(min(65535, round(d)) for d in meta.dpi)) + data[18:]
    segments = b""
    if meta.exif:
        segments += jpeg_segment(0xE1, b"Exif\0\0" + meta.exif)
    if meta.icc:  # in numbered pieces, each in a segment of its own
        size = _SEGMENT_MAX - 14
        pieces = [meta.icc[i:i + size] for i in range(0, len(meta.icc), size)]
        for n, piece in enumerate(pieces, 1):
            segments += jpeg_segment(0xE2, b"ICC_PROFILE\0" + bytes([n, len(pieces)]) + piece)
    at = after_app_headers(data)
    return data[:at] + segments + data[at:]


# A private TIFF tag (65000 and up are for applications' own use) holding the provenance as JSON.
PROVENANCE_TAG = 65000
SOFTWARE_TAG = 305


def write_tiff(path: Path, image: np.ndarray, meta: ImageMeta, provenance: dict | None = None) -> list[str]:
    """Write ``image`` (BGR or BGRA, 8 or 16 bits) as a deflate-compressed TIFF with ``meta`` as
    tags, and ``provenance`` (as JSON in ``PROVENANCE_TAG``, vidcolor as its Software); returns
    what could not be carried."""
    import json

    import tifffile

    rgb = image[..., [2, 1, 0, 3][:image.shape[2]]]
    texts = dict(meta.texts)
    if provenance is not None:
        texts[SOFTWARE_TAG] = provenance["colorized_by"]
        texts[PROVENANCE_TAG] = json.dumps(provenance, separators=(", ", ": "))
    # UTF-8 as bytes: tifffile takes only 7-bit ASCII text, and scans are described in every language.
    extratags = [(tag, "s", 0, text.encode("utf-8"), True) for tag, text in sorted(texts.items())]
    lost = ["its EXIF camera, date and GPS fields (a TIFF here gets description, artist, copyright, make, "
            "model, software and date)"] if meta.exif and _has_sub_ifds(meta.exif) else []
    tifffile.imwrite(path, rgb, photometric="rgb", compression="adobe_deflate", metadata=None,
                     extrasamples=("unassalpha",) if rgb.shape[2] == 4 else None,
                     resolution=meta.dpi, resolutionunit="INCH" if meta.dpi else None,
                     iccprofile=meta.icc, extratags=extratags, software=False)  # ours is in extratags
    return lost


def _has_sub_ifds(raw: bytes) -> bool:
    from PIL import Image

    exif = Image.Exif()
    exif.load(b"Exif\0\0" + raw)
    return any(exif.get_ifd(ifd) for ifd in SUB_IFDS)

