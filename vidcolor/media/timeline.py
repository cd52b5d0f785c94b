"""Which part of the input is colorized, and how its timestamps map to the output."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VidcolorError, option


@dataclass(frozen=True)
class Span:
    """Times in seconds on the input's clock. ``shift`` is taken off every output timestamp."""

    start: Fraction | None = None
    end: Fraction | None = None
    shift: Fraction = Fraction(0)
    # Where the picture starts and ends on the input's clock (the end None where unknown), for
    # estimates and messages; None for the whole film.
    picture: tuple[Fraction, Fraction | None] | None = field(default=None, compare=False)

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None

    def contains(self, t: Fraction) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)

    def frames(self, rate: Fraction | None) -> int | None:
        """About how many frames of the picture the span holds, at ``rate`` (for progress only)."""
        if self.picture is None or not rate:
            return None
        begin = max(self.start if self.start is not None else self.picture[0], self.picture[0])
        ends = [t for t in (self.end, self.picture[1]) if t is not None]
        return None if not ends else max(0, round((min(ends) - begin) * rate))

    def where(self) -> str:
        """Where the picture runs, in the words of --start and --duration."""
        if self.picture is None:
            return ""
        origin, end = self.picture
        return f"the picture runs from {clock(0)} to {clock(end - origin)}" if end is not None else \
            f"the picture starts at {clock(origin)} on the file's clock"

    def shift_ticks(self, time_base: Fraction) -> int:
        return round(self.shift / time_base)


def make_span(container: av.container.InputContainer, stream: av.video.stream.VideoStream, src,
              start: float | None, duration: float | None) -> Span:
    """The part of the film that --start and --duration ask for. They count from the first picture,
    as a player's timeline shows it (a file's clock may start earlier, with its audio, or later);
    the output then starts at 0. A start past the end of the picture is refused here, before
    anything is decoded."""
    if start is None and duration is None:
        return Span()
    origin, length = picture_extent(container, stream, src)
    if start and length is not None and start >= length:
        raise VidcolorError(f"{src}: {option('start')} {clock(start)} is past the end of the picture, which lasts "
                            f"{clock(length)} (from {clock(0)} to {clock(length)} on the {option('start')} clock)")
    begin = origin + Fraction(start or 0)
    end = begin + Fraction(duration) if duration is not None else None
    return Span(start=begin, end=end, shift=begin if start is not None else Fraction(0),
                picture=(origin, None if length is None else origin + length))


def picture_extent(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                   src) -> tuple[Fraction, Fraction | None]:
    """When the first picture is shown, on the file's clock, and how long the picture lasts from
    there (None where the file does not say)."""
    file_start = Fraction(container.start_time or 0, av.time_base)
    origin = first_picture_time(src, stream.index)
    if origin is None:
        origin = Fraction(stream.start_time) * stream.time_base if stream.start_time is not None else file_start
    if stream.duration:
        end = Fraction(stream.start_time or 0) * stream.time_base + stream.duration * stream.time_base
    elif container.duration:
        end = file_start + Fraction(container.duration, av.time_base)
    else:
        return origin, None
    return origin, max(Fraction(0), end - origin)


def first_picture_time(src, index: int) -> Fraction | None:
    """The time of the first decoded frame of stream ``index`` of ``src`` (its own opening, so the
    caller's container stays where it is); None for image sequences or where it cannot be told."""
    from .sequence import is_pattern

    path = Path(src)
    if is_pattern(path) or path.is_dir():
        return None
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = container.streams[index]
            for frame in container.decode(stream):
                if frame.pts is not None:
                    return frame.pts * stream.time_base
                return None
    except (av.error.FFmpegError, OSError, IndexError):
        return None
    return None


def clock(seconds: float | Fraction) -> str:
    """'0:06.000', '1:02:03.500': how the help asks for times."""
    ms = int(round(float(seconds) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return (f"{h}:{m:02d}" if h else f"{m}") + f":{rest / 1000:06.3f}"


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
    if value is not None and not math.isfinite(value):
        raise VidcolorError(f"{what} '{text}' is not a time (use seconds or HH:MM:SS.ms)")
    if value is not None and value < 0:
        raise VidcolorError(f"{what} must not be negative")
    return value
