"""A non-square pixel shape (the sample aspect ratio: PAL and NTSC DV, anamorphic scans) recorded
where each container reads it.

PyAV sets the codec's sample aspect ratio, which H.264 and ProRes carry in their bitstream and
MP4 and QuickTime in the codec's parameters; Matroska reads only the container stream's own
(``AVStream.sample_aspect_ratio``) to write DisplayWidth and DisplayHeight, and FFV1 has none in
its bitstream, so an archive master in Matroska lost it. PyAV offers no way to set the stream's,
so it is written here in the stream's FFmpeg structure, as FFmpeg's own command line sets it,
after checking the structure's fields that precede it against what PyAV reports of the stream;
where they do not match (another build's layout), nothing is written and the caller is told.
"""
from __future__ import annotations

import ctypes
from fractions import Fraction


class _Rational(ctypes.Structure):
    _fields_ = [("num", ctypes.c_int), ("den", ctypes.c_int)]


class _StreamHead(ctypes.Structure):
    """The public head of ``AVStream`` (libavformat 59 to 62), up to ``sample_aspect_ratio``."""

    _fields_ = [("av_class", ctypes.c_void_p), ("index", ctypes.c_int), ("id", ctypes.c_int),
                ("codecpar", ctypes.c_void_p), ("priv_data", ctypes.c_void_p), ("time_base", _Rational),
                ("start_time", ctypes.c_int64), ("duration", ctypes.c_int64), ("nb_frames", ctypes.c_int64),
                ("disposition", ctypes.c_int), ("discard", ctypes.c_int), ("sample_aspect_ratio", _Rational)]


# Where PyAV's Stream object keeps its AVStream pointer: after the object's header (reference
# count, type) and Cython's table of methods.
_POINTER_AT = 3 * ctypes.sizeof(ctypes.c_void_p)


def _head(stream) -> _StreamHead | None:
    """The stream's AVStream head, where its fields are the stream's as PyAV reports them."""
    import av

    if not isinstance(stream, av.video.stream.VideoStream):
        return None
    address = ctypes.c_void_p.from_address(id(stream) + _POINTER_AT).value
    if not address:
        return None
    head = _StreamHead.from_address(address)
    tb = stream.time_base
    if not head.av_class or head.index != stream.index or tb is None \
            or (head.time_base.num, head.time_base.den) != (tb.numerator, tb.denominator):
        return None
    return head


def set_stream_aspect(stream, sar: Fraction | None) -> bool:
    """Record ``sar`` on an output ``stream`` before its container's header is written (its
    time base set); False where it could not be."""
    if not sar or sar == 1:
        return True
    head = _head(stream)
    if head is None:
        return False
    head.sample_aspect_ratio.num, head.sample_aspect_ratio.den = sar.numerator, sar.denominator
    return True
