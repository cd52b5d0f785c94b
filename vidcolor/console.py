"""Progress on a terminal: a run's events (``vidcolor.progress``) drawn as tqdm bars on stderr.

One bar per counted task, stacked while several run (a batch's frames above its current item's);
a task without a count (loading the model) is a line while it lasts, on a terminal only (a log
gets nothing that is not finished); notes and estimates are lines above the bars.
"""
from __future__ import annotations

import sys

from tqdm import tqdm

from .progress import ADVANCE, END, ESTIMATE, NOTE, START, Event


class Bars:
    """A listener: ``Progress(Bars())``."""

    def __init__(self, file=None):
        self.file = file or sys.stderr
        self._bars: dict[tuple[str, str], tqdm] = {}

    def __call__(self, e: Event) -> None:
        key = (e.task, e.label)
        if e.kind in (NOTE, ESTIMATE):
            self.write(f"vidcolor: {e.message}")
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
