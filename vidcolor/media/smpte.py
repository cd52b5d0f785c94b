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


def moved_to(tags: dict[str, str], video: av.video.stream.VideoStream, span: Span,
             rate: Fraction | None = None) -> dict[str, str]:
    """``tags`` with their ``timecode`` moved on to the first frame of ``video`` in ``span``;
    unchanged for the whole film, or where there is no rate or the tag is not a timecode.

    ``rate``: the output's frame rate, where it is not the input's (after inverse telecine).
    The label is then counted again at that rate, for the same moment from the same origin: a
    29.97 label ``01:00:00:15`` becomes the 23.976 ``01:00:00:12``. A drop-frame label becomes a
    non-drop one where the new rate has no drop-frame counting, as MOV's muxer would otherwise
    drop the timecode track altogether.
    """
    label = tags.get("timecode")
    source_rate = frame_rate(video)
    rate = None if rate == source_rate else rate
    if not label or not source_rate or (span.start is None and rate is None):
        return tags
    first = Fraction(video.start_time or 0) * video.time_base
    frames = 0 if span.start is None else max(0, math.ceil((span.start - first) * source_rate))
    try:
        # Drop-frame labels are written with a semicolon; colons mean every label is counted.
        moved = Timecode(_rate(source_rate), label, force_non_drop_frame=";" not in label) + frames
        if rate is not None:
            count = round((moved.frames - 1) / source_rate * rate)  # Timecode counts frames from 1
            drop = moved.drop_frame and rate in _DROP_FRAME_RATES
            moved = Timecode(_rate(rate), frames=count + 1, force_non_drop_frame=not drop)
    except (ValueError, TypeError, ZeroDivisionError):
        return tags
    return {**tags, "timecode": str(moved)}


_DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))


def _rate(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"
