"""A run's progress as events: what is being done, how far it is, how fast, and when it will end.

A run (a film, a batch, an evaluation) emits events through a ``Progress``; it never draws
anything itself. The consumers are outside: the command line's bars (``vidcolor.console``), the
batch runner (which forwards its workers' events), the web page, or any callable an API user
passes. An event is a plain frozen value, so it can be queued, pickled to another process, or
sent as JSON.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

# Kinds of events. A picture is a small JPEG of the latest frame made (every PICTURE_EVERY seconds
# at most), for those that show one (the web page); the bars ignore it. A note tells what was
# decided where nothing is lost (a film deinterlaced, a run resumed); a warning, what is lost.
START, ADVANCE, END, NOTE, WARNING, ESTIMATE, PICTURE = ("start", "advance", "end", "note", "warning", "estimate",
                                                         "picture")
PICTURE_EVERY = 2.0
# An estimate is made once the pace has been measured over this long, past the first frames
# (which pay for the pipeline filling up), and only for what will take longer than LONG_RUN.
ESTIMATE_AFTER = 2.0
LONG_RUN = 60.0


@dataclass(frozen=True)
class Event:
    """One step of a task. ``task`` names what is counted ("load", "frames", "batch", "eval", ...)
    and ``label`` what it is about (a file's name, a model's), as the user should see it."""

    kind: str
    task: str
    label: str = ""
    done: int = 0
    total: int | None = None
    unit: str = "frame"
    initial: int = 0  # done before this run (resumed work): not counted in the rate
    elapsed: float = 0.0  # seconds since the task started
    rate: float | None = None  # units a second in this run, once measured
    message: str = ""  # a note, or what an estimate says
    picture: bytes | None = None  # a picture's JPEG

    @property
    def eta(self) -> float | None:
        """Seconds left at the measured rate, where the total is known."""
        if self.total is None or not self.rate:
            return None
        return max(0.0, (self.total - self.done) / self.rate)

    def as_dict(self) -> dict:
        """The event as JSON takes it (a picture's bytes left out)."""
        out = {**asdict(self), "eta": self.eta}
        del out["picture"]
        return out


Listener = Callable[[Event], None]


class Progress:
    """Where a run sends its events: to each listener, in order, from any thread."""

    def __init__(self, *listeners: Listener | None):
        self.listeners = [f for f in listeners if f is not None]
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            for listen in self.listeners:
                listen(event)

    def note(self, message: str, lost: bool = False) -> None:
        """Tell the user what was decided (``lost``: a warning, something is left out or changed)."""
        self.emit(Event(WARNING if lost else NOTE, "", message=message))

    def task(self, task: str, label: str = "", total: int | None = None, unit: str = "frame",
             initial: int = 0, advice: Callable[[Event], str] | None = None) -> Task:
        return Task(self, task, label, total, unit, initial, advice)


QUIET = Progress()


class Notices:
    """A listener that keeps a run's notes and warnings: for its summary, or a batch item's report."""

    def __init__(self):
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def __call__(self, e: Event) -> None:
        if e.kind == NOTE:
            self.notes.append(e.message)
        elif e.kind == WARNING:
            self.warnings.append(e.message)


class KeepingNotices(Progress):
    """``progress``, and the notes and warnings sent through it kept in ``notices``: a run's, for
    its summary."""

    def __init__(self, progress: Progress):
        self.notices = Notices()
        super().__init__(progress.emit, self.notices)


class Task:
    """One counted task. Use as a context manager (``end`` on leaving); ``advance`` as units are
    done. Once the pace is measured, one ``estimate`` event says how long the rest will take,
    with what ``advice(event)`` adds (ways to go faster, say), where the run is long."""

    def __init__(self, progress: Progress, task: str, label: str, total: int | None, unit: str, initial: int,
                 advice: Callable[[Event], str] | None):
        self.progress, self.advice = progress, advice
        self.started = time.perf_counter()
        self.event = Event(START, task, label, initial, total, unit, initial)
        self._first: tuple[float, int] | None = None  # when the first unit of this run was done
        self._estimated = False
        progress.emit(self.event)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc) -> None:
        self.end()

    @property
    def done(self) -> int:
        return self.event.done

    def set_total(self, total: int | None) -> None:
        self.event = replace(self.event, total=total)

    def advance(self, n: int = 1) -> None:
        now = time.perf_counter()
        done = self.event.done + n
        if self._first is None:
            self._first = (now, done)
        # The pace from the first unit on: the wait for the first (loading, the queues filling) is not the pace.
        t0, d0 = self._first
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else None
        self.event = replace(self.event, kind=ADVANCE, done=done, elapsed=now - self.started, rate=rate)
        self.progress.emit(self.event)
        if not self._estimated and rate and now - t0 >= ESTIMATE_AFTER:
            self._estimated = True
            eta = self.event.eta
            if eta is not None and eta >= LONG_RUN:
                extra = self.advice(self.event) if self.advice else ""
                self.progress.emit(replace(self.event, kind=ESTIMATE, message=_estimate(self.event) + extra))

    def show(self, jpeg: bytes) -> None:
        """A picture of the work (a small JPEG of the latest frame made)."""
        self.progress.emit(replace(self.event, kind=PICTURE, picture=jpeg))

    def resume(self, n: int) -> None:
        """Count ``n`` units done by an earlier run: in the progress, not in this run's pace."""
        if self._first is not None:
            self._first = (self._first[0], self._first[1] + n)
        self.event = replace(self.event, done=self.event.done + n, initial=self.event.initial + n)
        self.progress.emit(replace(self.event, kind=ADVANCE))

    def end(self) -> None:
        if self.event.kind != END:
            self.event = replace(self.event, kind=END, elapsed=time.perf_counter() - self.started)
            self.progress.emit(self.event)


def _estimate(e: Event) -> str:
    what = f"{e.label}: " if e.label else ""
    return (f"{what}{e.total - e.done} {e.unit}s to go at {rate_text(e.rate, e.unit)} (measured): "
            f"about {duration_text(e.eta)} more")


def rate_text(rate: float, unit: str = "frame") -> str:
    return f"{rate:.2f} {unit}s/s" if rate >= 1 else f"{1 / rate:.1f} s/{unit}"


def duration_text(seconds: float) -> str:
    """'45 s', '12 min', '3 h 05 min', '2 days 4 h': as precise as planning needs."""
    s = int(round(seconds))
    if s < 90:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    if s < 48 * 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} days {s % 86400 // 3600} h"
