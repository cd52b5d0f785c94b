"""What every output says about how it was made: that it is a colorization, by which vidcolor,
with which model and weights (SHA-256), with which options that change pixels, from which
input (name and SHA-256). An archive must be able to tell a colorized copy from its original,
and to make it again.

Video containers carry it as tags: a ``comment`` holding the record as JSON (MP4, MOV,
Matroska, WebM, AVI and ASF all keep a comment), and in Matroska and WebM one ``VIDCOLOR_*`` tag
a field as well. ``creation_time`` becomes the time of the run; the input's is kept as
``source_creation_time``. Stills carry it in a PNG text chunk, a JPEG comment or a TIFF tag
(``media.image_meta.PROVENANCE_TAG``), other formats in a sidecar ``NAME.vidcolor.json``;
``--report`` JSON has it under ``provenance``.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .media.atomic import atomic_output
from .media.image_meta import after_app_headers, jpeg_segment, png_chunk

_hashes: dict[tuple, str] = {}  # (path, size, mtime): SHA-256, so that weights are hashed once a process


def sha256_file(path: Path) -> str:
    from .models.weights import sha256_of

    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hashes:
        _hashes[key] = sha256_of(path)
    return _hashes[key]


def vidcolor_version() -> str:
    try:
        return version("vidcolor")
    except PackageNotFoundError:
        return "unknown"


def record(src: Path, model: str, weights: Path, settings: dict) -> dict:
    """The provenance of an output made from ``src`` by the DDColor ``model`` with the ``weights``
    file and ``settings`` (the options that change pixels; None and False values left out)."""
    src = Path(src)
    return {
        "colorized_by": f"vidcolor {vidcolor_version()}",
        "model": f"DDColor {model}",
        "weights": Path(weights).name,
        "weights_sha256": sha256_file(weights),
        "settings": {k: v for k, v in sorted(settings.items()) if v is not None and v is not False},
        "source": src.name,
        "source_sha256": None if src.is_dir() or "%" in src.name else sha256_file(src),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),  # as MP4 keeps it
    }


def container_tags(prov: dict, source_tags: dict, muxer: str) -> dict[str, str]:
    """The output container's tags that carry ``prov``, given the input's ``source_tags``."""
    tags = {"comment": json.dumps(prov, separators=(", ", ": ")), "creation_time": prov["created"]}
    source_time = next((v for k, v in source_tags.items() if k.lower() == "creation_time"), None)
    if source_time:
        tags["source_creation_time"] = source_time
    if muxer in ("matroska", "webm"):  # tags of any name
        for key, value in prov.items():
            tags[f"VIDCOLOR_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return tags


def embed(image: bytes, prov: dict) -> bytes | None:
    """The still ``image`` (a file's bytes) with ``prov`` in it, every pixel untouched: a PNG text
    chunk or a JPEG comment. None for formats where vidcolor writes no text (a sidecar instead)."""
    text = json.dumps(prov, separators=(", ", ": "))
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_with_text(image, "vidcolor", text)
    if image.startswith(b"\xff\xd8"):
        return _jpeg_with_comment(image, f"vidcolor {text}")
    return None


def write_sidecar(path: Path, prov: dict) -> Path:
    sidecar = Path(path).with_name(Path(path).name + ".vidcolor.json")
    with atomic_output(sidecar) as tmp:
        tmp.write_text(json.dumps(prov, indent=2) + "\n")
    return sidecar


def _png_with_text(data: bytes, keyword: str, text: str) -> bytes:
    """An iTXt chunk (UTF-8, uncompressed) before the pixels, where readers find it at once."""
    chunk = png_chunk(b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8"))
    at = data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


def _jpeg_with_comment(data: bytes, text: str) -> bytes:
    """A COM segment after the APP headers (where readers expect JFIF and EXIF first)."""
    at = after_app_headers(data)
    return data[:at] + jpeg_segment(0xFE, text.encode("utf-8")[:65533]) + data[at:]

