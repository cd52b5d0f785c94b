"""Cut a film into segments that are colorized apart, committed one by one, and joined unseen.

Each segment is decoded with context frames on both sides: they go through the network, the
motion tracker and the smoother, but are not written. With the smoother's window and the cut
detector's history inside that context, every written frame gets exactly the color an
uninterrupted run gives it, so segment boundaries need not fall on scene cuts.

Colors a film must follow (references) are carried from each segment to the next: the segment
before saves them where the next one starts decoding (``ChromaGuide.save``), so a film's segments
with references run in order. A segment's decoding also reaches a keyframe up to ``LOOK_BACK``
frames past its context, so the frames it writes see the keyframe ahead of them as an
uninterrupted run does.
"""
from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import OptionError
from ..media.probe import frame_pts, frame_rate
from ..media.timeline import Span
from ..temporal.references import LOOK_BACK
from ..temporal.smoother import context_frames, window

# Segments sized by work ("auto", the single-file command's default): about SEGMENT_WORK seconds
# of work each at the pace measured on the first, which is MIN_SEGMENT_SECONDS of film; a segment
# also holds at least CONTEXT_SHARE times the frames it colorizes beyond its edges.
SEGMENT_WORK = 60.0
# A batch's films are cut every this many seconds of film: its unit of parallel work too.
BATCH_SEGMENT_SECONDS = 60.0
MIN_SEGMENT_SECONDS = 2.0
CONTEXT_SHARE = 6


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
    step: float = 1 / 25  # seconds between frames, at the stream's nominal rate


def plan_segments(container, stream, src: Path, span: Span, strength: float, seconds: float | str,
                  identity: str, keyframes=None, first: int | None = None, per: int | None = None) -> Plan:
    """Segments of about ``seconds`` each of ``span`` of the film's ``stream``. ``identity`` (the
    input's fingerprint and the settings) goes into the plan's key. ``keyframes``: the times
    (seconds on the input's clock) of the frames with references, where the film has some.

    Sized by work (``seconds`` is ``"auto"``): the first segment is ``first`` frames and the others
    ``per`` each; only ``first`` goes into the key, so that the first segment, colorized before
    its pace decides ``per``, belongs to the plan made once ``per`` is known."""
    tb = stream.time_base
    times = frame_pts(container, stream, src)
    rate = frame_rate(stream) or Fraction(25)
    if times is not None:
        times = [t for t in times if span.contains(t * tb)]
    n = len(times) if times is not None else 0
    before, after = context_frames(strength)
    # With references, each segment saves what the next one starts from inside its own decoding.
    least = before + 1 if keyframes else 1
    if first is None:
        per = first = max(least, round(seconds * rate))
        sized = ""
    else:
        first, per = max(least, first), max(least, per or first)
        sized = f"|{first}"
    key = hashlib.sha256(f"{identity}|{seconds}|{n}|{before}|{after}{sized}".encode()).hexdigest()[:16]
    if times is None or n <= first:
        return Plan(key, (Segment(0, span, span, n),), n, float(1 / rate))

    def at(i: int, default: Fraction | None) -> Fraction | None:
        return times[i] * tb if 0 < i < n else default

    seconds_of = [t * tb for t in times]
    half_frame = 1 / (2 * rate)
    ahead = sorted(keyframes or ())
    segments = []
    for index, start in enumerate([0, *range(first, n, per)]):
        end = min(n, start + (first if index == 0 else per))
        last = end + after  # the context decoded after the segment ends here
        if ahead and end < n:
            k = bisect.bisect_left(ahead, seconds_of[end] - half_frame)
            if k < len(ahead) and ahead[k] < seconds_of[end] + Fraction(after + LOOK_BACK) / rate:
                last = max(last, bisect.bisect_left(seconds_of, ahead[k] - half_frame) + 1)
        emit = Span(at(start, span.start), at(end, span.end), span.shift)
        decode = Span(at(start - before, span.start), at(last, span.end), span.shift)
        segments.append(Segment(index, decode, emit, end - start))
    return Plan(key, tuple(segments), n, float(1 / rate))


def film_seconds(value) -> float:
    """``value`` (a batch's segment_seconds) as a finite number of seconds of film over 0, or one
    clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise OptionError.of("segment_seconds", f"{value}: give a number of seconds of film over 0")
    return float(value)


def first_segment(stream, strength: float, seconds: float) -> int:
    """Frames of the first segment of a plan sized by work: ``seconds`` of film, and at least
    ``CONTEXT_SHARE`` times the frames each segment colorizes beyond its edges, so that they
    never cost more than a sixth of the work."""
    rate = frame_rate(stream) or Fraction(25)
    _, radius = window(strength)
    return max(1, round(seconds * rate), CONTEXT_SHARE * 2 * radius)


def segment_frames(first: int, rate: float | None, work: float) -> int:
    """Frames a segment holds to last about ``work`` seconds at ``rate`` frames a second (the
    pace measured on the first segment), never fewer than the first segment's."""
    return max(first, round(work * rate)) if rate and math.isfinite(rate) else first
