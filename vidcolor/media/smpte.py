"""The SMPTE timecode of a part of a film: the label of the first frame that part writes.

A ``timecode`` tag (MOV and MP4 carry it as a tmcd track, Matroska and MXF as a tag) names the
first frame; an output that starts later (``--start``) must name its own first frame, or an
editor conforming to the source would land on the wrong frames.
"""
from __future__ import annotations

import math
from fractions import Fraction

import av
from timecode import Timecode

from .probe import frame_rate
from .timeline import Span


def moved_to(tags: dict[str, str], video: av.video.stream.VideoStream, span: Span) -> dict[str, str]:
    """``tags`` with their ``timecode`` moved on to the first frame of ``video`` in ``span``;
    unchanged for the whole film, or where there is no rate or the tag is not a timecode."""
    label = tags.get("timecode")
    rate = frame_rate(video)
    if not label or span.start is None or not rate:
        return tags
    first = Fraction(video.start_time or 0) * video.time_base
    frames = max(0, math.ceil((span.start - first) * rate))
    try:
        # Drop-frame labels are written with a semicolon; colons mean every label is counted.
        start = Timecode(f"{rate.numerator}/{rate.denominator}", label, force_non_drop_frame=";" not in label)
        moved = start + frames
    except (ValueError, TypeError, ZeroDivisionError):
        return tags
    return {**tags, "timecode": str(moved)}
