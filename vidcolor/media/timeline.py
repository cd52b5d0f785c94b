"""Which part of the input is colorized, and how its timestamps map to the output."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import av

from ..errors import VidcolorError


@dataclass(frozen=True)
class Span:
    """Times in seconds on the input's clock. ``shift`` is taken off every output timestamp."""

    start: Fraction | None = None
    end: Fraction | None = None
    shift: Fraction = Fraction(0)

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None

    def contains(self, t: Fraction) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)

    def shift_ticks(self, time_base: Fraction) -> int:
        return round(self.shift / time_base)


def make_span(container: av.container.InputContainer, start: float | None, duration: float | None) -> Span:
    """--start is measured from the beginning of the file; the output then starts at 0."""
    if start is None and duration is None:
        return Span()
    origin = Fraction(container.start_time or 0, av.time_base)
    begin = origin + Fraction(start or 0)
    end = begin + Fraction(duration) if duration is not None else None
    return Span(start=begin, end=end, shift=begin if start is not None else Fraction(0))


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")


def parse_time(text: str | float | None, what: str) -> float | None:
    """Seconds from '90', '90.5', '1:30' or '01:01:30.25'."""
    if text is None or isinstance(text, (int, float)):
        value = text
    else:
        m = _CLOCK.match(text.strip())
        try:
            value = (int(m[1] or 0) * 3600 + int(m[2]) * 60 + float(m[3])) if m else float(text)
        except ValueError:
            raise VidcolorError(f"{what} '{text}' is not a time (use seconds or HH:MM:SS.ms)") from None
    if value is not None and value < 0:
        raise VidcolorError(f"{what} must not be negative")
    return value
