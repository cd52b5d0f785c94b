"""The units of work an engine runs, in any process on any machine: self-contained and picklable.

A worker keeps its Colorizer between tasks (loading a model takes seconds), so an engine's
workers are long-lived: processes of the local engine, actors of the Ray engine.
"""
from __future__ import annotations

import os
import socket
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..media.encode import EncodeSettings
from ..media.interlace import PROGRESSIVE, Interlace
from ..models import Colorizer
from ..options import ModelOptions, RunOptions
from ..progress import ADVANCE, PICTURE, Event, KeepingNotices, Progress
from ..run.film import RunSpan
from ..temporal.reference_files import FilmReferences

# A worker tells the driver how far its task is at most this often (a queue across processes or machines).
REPORT_EVERY = 0.5  # seconds


@dataclass(frozen=True)
class SegmentTask:
    """Colorize one segment of a film into its own file in the work folder."""

    src: Path
    part: Path
    span: RunSpan  # what it decodes and writes; the references' colors carried as it says
    settings: EncodeSettings  # resolved for the final output's container
    strength: float
    model: ModelOptions
    interlace: Interlace = PROGRESSIVE  # deinterlaced (or the telecine undone) first where it says so
    index: int = 0
    guide: FilmReferences | None = None  # the film's references


@dataclass(frozen=True)
class FileTask:
    """Colorize a whole file (a still, or a film short enough to be one segment) straight to its output."""

    src: Path
    dst: Path
    options: RunOptions


@dataclass
class Result:
    frames: int  # written
    colorized: int  # through the network
    seconds: float
    worker: str  # host:pid
    warnings: list[str] = field(default_factory=list)  # the streams dropped or converted among them
    notes: list[str] = field(default_factory=list)  # what was decided, where nothing is lost
    cuts: list[float] = field(default_factory=list)  # scene cuts among the frames written, output seconds
    # Frames the references hold less than half of: a segment's times, a whole film's [first, last] runs.
    unreached: list = field(default_factory=list)


class Worker:
    """Runs tasks; one per process (local) or actor (Ray), holding its model between tasks."""

    def __init__(self, device: str | None = None, events=None):
        self.device = device  # overrides the task's device (one GPU per worker)
        self.events = events  # a queue the driver reads: (task key, frames written so far)
        self._colorizer: tuple[ModelOptions, Colorizer] | None = None

    def run(self, task: SegmentTask | FileTask) -> Result:
        t0 = time.perf_counter()
        progress = KeepingNotices(Progress(_Forward(self.events, task_key(task)) if self.events is not None else None))
        with warnings.catch_warnings(record=True) as caught:  # what a library warns of, with the item's warnings
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module="torch")
            if isinstance(task, SegmentTask):
                from ..run.film import colorize_segment

                frames, colorized, cuts, unreached = colorize_segment(
                    task.src, task.part, span=task.span, colorizer=self.colorizer(task.model),
                    settings=task.settings, strength=task.strength, interlace=task.interlace,
                    task=progress.task("frames", task.src.name), guide=task.guide)
            else:
                from ..pipeline import colorize_path

                summary = colorize_path(task.src, task.dst, task.options, colorizer=self.colorizer(task.options.model),
                                        overwrite=True, quiet=True, on_progress=progress)
                frames = colorized = summary.frames
                cuts, unreached = summary.scene_cuts, summary.needs_reference
        told = progress.notices
        return Result(frames, colorized, time.perf_counter() - t0, f"{socket.gethostname()}:{os.getpid()}",
                      told.warnings + [str(w.message) for w in caught], told.notes, cuts, unreached)

    def colorizer(self, model: ModelOptions) -> Colorizer:
        if self.device is not None:
            model = replace(model, device=self.device)
        if self._colorizer is None or self._colorizer[0] != model:
            self._colorizer = None  # free the old model first
            self._colorizer = (model, Colorizer(progress=False, **model.colorizer_kwargs()))
        return self._colorizer[1]


def task_key(task: SegmentTask | FileTask) -> tuple[str, int]:
    return str(task.src), getattr(task, "index", 0)


class _Forward:
    """Sends a task's frame count to the driver's queue, at most every REPORT_EVERY seconds, and
    its pictures: ``(task key, frames written, picture or None)``."""

    def __init__(self, events, key: tuple[str, int]):
        self.events, self.key, self.sent, self.done = events, key, 0.0, 0

    def __call__(self, e: Event) -> None:
        now = time.monotonic()
        if e.task != "frames":
            return
        if e.kind == ADVANCE:
            self.done = e.done
        if (e.kind == ADVANCE and now - self.sent >= REPORT_EVERY) or e.kind == PICTURE:
            self.sent = now
            try:
                self.events.put_nowait((self.key, self.done, e.picture if e.kind == PICTURE else None))
            except Exception:  # a full or closed queue costs the driver a bar's precision, never the task
                pass
