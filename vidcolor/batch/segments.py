"""Cut a film into segments that are colorized apart, committed one by one, and joined unseen.

Each segment is decoded with context frames on both sides: they go through the network, the
motion tracker and the smoother, but are not written. With the smoother's window and the cut
detector's history inside that context, every written frame gets exactly the color an
uninterrupted run gives it, so segment boundaries need not fall on scene cuts.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..media.probe import frame_pts, frame_rate
from ..media.timeline import Span
from ..temporal.smoother import context_frames


@dataclass(frozen=True)
class Segment:
    index: int
    decode: Span  # what is decoded: the segment and its context
    emit: Span  # what is written
    frames: int  # frames it is planned to write


@dataclass(frozen=True)
class Plan:
    key: str  # names this plan's segment files; another key voids them
    segments: tuple[Segment, ...]
    frames: int  # frames the packets announce in the span


def plan_segments(container, stream, src: Path, span: Span, strength: float, seconds: float,
                  identity: str) -> Plan:
    """Segments of about ``seconds`` each of ``span`` of the film's ``stream``. ``identity`` (the
    input's fingerprint and the settings) goes into the plan's key."""
    tb = stream.time_base
    times = frame_pts(container, stream, src)
    rate = frame_rate(stream) or Fraction(25)
    if times is not None:
        times = [t for t in times if span.contains(t * tb)]
    n = len(times) if times is not None else 0
    per = max(1, round(seconds * rate))
    before, after = context_frames(strength)
    key = hashlib.sha256(f"{identity}|{seconds}|{n}|{before}|{after}".encode()).hexdigest()[:16]
    if times is None or n <= per:
        return Plan(key, (Segment(0, span, span, n),), n)

    def at(i: int, default: Fraction | None) -> Fraction | None:
        return times[i] * tb if 0 < i < n else default

    segments = []
    for index, first in enumerate(range(0, n, per)):
        end = min(n, first + per)
        emit = Span(at(first, span.start), at(end, span.end), span.shift)
        decode = Span(at(first - before, span.start), at(end + after, span.end), span.shift)
        segments.append(Segment(index, decode, emit, end - first))
    return Plan(key, tuple(segments), n)
