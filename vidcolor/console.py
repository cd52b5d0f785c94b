"""Progress on a terminal: a run's events (``vidcolor.progress``) drawn as tqdm bars on stderr;
and a batch's items as a table.

One bar per counted task, stacked while several run (a batch's frames above its current item's);
a task without a count (loading the model) is a line while it lasts, on a terminal only (a log
gets nothing that is not finished); notes and estimates are lines above the bars.
"""
from __future__ import annotations

import sys
from collections import Counter

from tqdm import tqdm

from .progress import ADVANCE, END, ESTIMATE, NOTE, START, WARNING, Event, Listener, Progress


class Bars:
    """A listener: ``Progress(Bars())``."""

    def __init__(self, file=None):
        self.file = file or sys.stderr
        self._bars: dict[tuple[str, str], tqdm] = {}

    def __call__(self, e: Event) -> None:
        key, line = (e.task, e.label), notice_line(e)
        if line or e.kind == ESTIMATE:
            self.write(line or f"vidcolor: {e.message}")
        elif e.kind == START and not e.unit:  # a step without a count: a line while it lasts, on a terminal
            if self.file.isatty():
                self._bars[key] = tqdm(total=None, desc=f"{e.label} ...", bar_format="{desc}", file=self.file,
                                       position=len(self._bars), leave=False)
        elif e.kind == START:
            self._bars[key] = tqdm(total=e.total, initial=e.initial, unit=e.unit, desc=e.label, file=self.file,
                                   dynamic_ncols=True, position=len(self._bars), leave=not self._bars,
                                   unit_scale=e.unit == "B", unit_divisor=1024 if e.unit == "B" else 1000)
        elif e.kind == ADVANCE and key in self._bars:
            bar = self._bars[key]
            if bar.total != e.total:
                bar.total = e.total
            bar.update(e.done - bar.n)
        elif e.kind == END and key in self._bars:
            self._bars.pop(key).close()

    def write(self, line: str) -> None:
        tqdm.write(line, file=self.file)


def notice_line(e: Event) -> str | None:
    """A note or a warning as the terminal shows it; None for other events."""
    if e.kind not in (NOTE, WARNING):
        return None
    return f"vidcolor: {'warning: ' if e.kind == WARNING else ''}{e.message}"


def for_run(quiet: bool, on_progress: Listener | Progress | None = None) -> Progress:
    """A run's progress as the API takes it: bars on stderr unless ``quiet``, and the caller's
    listener (or a whole ``Progress``, passed on as it is)."""
    if isinstance(on_progress, Progress):
        return on_progress
    return Progress(None if quiet else Bars(), on_progress)


def item_lines(items) -> list[str]:
    """A batch's items (``batch.ItemReport``) as a table."""
    rows = [("STATE", "TIME", "FRAMES", "INPUT", "ERROR")]
    for i in items:
        state = i.state + (" (earlier)" if i.skipped else "")
        rows.append((state, f"{i.seconds:.1f}s" if i.seconds is not None else "-",
                     "-" if i.frames is None else str(i.frames), i.input, i.error or ""))
    return table(rows)


def status_lines(rows) -> list[str]:
    """Where a batch stands (``batch.batch_status``): a table and a count of each state."""
    lines = table([("STATE", "SEGMENTS", "TIME", "INPUT", "ERROR")] + [
        (item.state, f"{done}/{planned}" if planned else "-", f"{item.seconds:.1f}s" if item.seconds is not None
         else "-", item.input, item.error or "") for item, done, planned in rows])
    counts = Counter(item.state for item, _, _ in rows)
    return lines + [", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "failed", "running", "pending")) +
                    (" (running: in progress, or interrupted; rerun to resume)" if counts.get("running") else "")]


def table(rows) -> list[str]:
    """Rows of text in columns, the last one left ragged."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]
