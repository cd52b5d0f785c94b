"""The stages a colorized frame goes through after the network, each an object of one shape:
``push(item)`` takes a frame and gives back the frames it lets go of (none while it waits for
later ones, several at once after a wait), ``flush()`` gives the rest at the end. A run is a list
of them (``run_through``), built from its options: the references' guide, the smoother, the finish
(Lab to the encoder's pixels, on worker threads), and last, on a thread of its own, the encoder
(``film.EncodeStage``); restoration and sparse colorization will be two more.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np

from ..stages import Workers
from ..temporal.motion import FlowsAhead, Step
from ..temporal.reference_files import Carry, FilmReferences
from ..temporal.smoother import ChromaSmoother


@dataclass
class FrameItem:
    """One frame on its way from the network to the encoder."""

    L: np.ndarray  # its full-resolution lightness
    ab: np.ndarray  # its color on the model's grid, as the stages so far have made it
    pts: int  # on the input stream's clock
    look: object  # how the decoder gave it (media.decode), for the encoder
    original: np.ndarray | None = None  # its own pixels, for a frame of a shot already in color
    alpha: np.ndarray | None = None
    raw: np.ndarray | None = None  # its color before the smoother, for the report
    step: Step | None = None  # its motion (flow from the frame before, cut, trust), once followed
    reach: float | None = None  # the share of its pixels the references hold, once guided
    finished: Future | None = None  # (encoder's frame, RGB for the report), once finished


class Stage(Protocol):
    def push(self, item: FrameItem) -> list[FrameItem]: ...

    def flush(self) -> list[FrameItem]: ...


def run_through(stages: list[Stage], items: list[FrameItem], first: int = 0) -> list[FrameItem]:
    """``items`` pushed through ``stages[first:]`` in order: what comes out of the last."""
    for stage in stages[first:]:
        items = [out for item in items for out in stage.push(item)]
    return items


def flush_through(stages: list[Stage]) -> list[FrameItem]:
    """Every stage flushed in order, what each lets go of pushed through those after it."""
    out = []
    for i, stage in enumerate(stages):
        out += run_through(stages, stage.flush(), i + 1)
    return out


class GuideStage:
    """The references' colors carried to each frame (``temporal.references.ChromaGuide``), its
    flows computed ahead on ``workers``; at the frame ``carry.save_at``, what the next segment
    starts from is saved. ``time_base``: the input stream's, which frames' pts count in."""

    def __init__(self, references: FilmReferences, workers: Workers, time_base: Fraction, carry: Carry = Carry()):
        self.clock, self.guide, self.time_base = references, references.make(workers), time_base
        if carry.load is not None:
            self.guide.load(carry.load)
        self._save = carry if carry.save is not None else None
        self._flows = FlowsAhead(self.guide.tracker, workers)

    def push(self, item: FrameItem) -> list[FrameItem]:
        return [out for flowed in self._flows.push(item.L, item) for out in self._guided(*flowed)]

    def flush(self) -> list[FrameItem]:
        out = [g for flowed in self._flows.flush() for g in self._guided(*flowed)]
        if self._save is not None:  # decoding ended where the next segment starts
            self.guide.save(self._save.save)
        return out + [self._item(g) for g in self.guide.flush()]

    def _guided(self, prev, sample, flow, item: FrameItem) -> list[FrameItem]:
        """The next frame whose flow is in, through the guide (stepping its tracker, in order)."""
        at = item.pts * self.time_base
        if self._save is not None and at >= self._save.save_at:
            self.guide.save(self._save.save)  # the next segment starts decoding here
            self._save = None
        step = self.guide.tracker.step(prev, sample, flow)
        return [self._item(g) for g in self.guide.push(item.L, item.ab, self.clock.position(at), item, step=step)]

    @staticmethod
    def _item(guided) -> FrameItem:
        item = guided.tag
        item.ab, item.step, item.reach = guided.ab, guided.step, guided.reach
        return item


class SmoothStage:
    """The color smoothed over time along the motion (``temporal.smoother.ChromaSmoother``); it
    takes the guide's motion where a guide went before it."""

    def __init__(self, smoother: ChromaSmoother):
        self.smoother = smoother

    def push(self, item: FrameItem) -> list[FrameItem]:
        return [self._item(s) for s in self.smoother.push(item.L, item.ab, item, item.step)]

    def flush(self) -> list[FrameItem]:
        return [self._item(s) for s in self.smoother.flush()]

    @staticmethod
    def _item(smoothed) -> FrameItem:
        item = smoothed.tag
        item.ab, item.raw, item.step = smoothed.ab, smoothed.raw, smoothed.step
        return item


class FinishStage:
    """Each frame to be written made into the encoder's pixels by ``finish`` (of its lightness,
    color, look, own pixels and alpha) on ``workers``, beside the frames after it; frames that
    are not written (context) stop here."""

    def __init__(self, finish: Callable[..., tuple], workers: Workers, written: Callable[[int], bool]):
        self.finish, self.workers, self.written = finish, workers, written

    def push(self, item: FrameItem) -> list[FrameItem]:
        if not self.written(item.pts):
            return []
        if item.raw is None:
            item.raw = item.ab  # unsmoothed: what the report calls unsmoothed is the color itself
        item.finished = self.workers.submit(self.finish, item.L, item.ab, item.look, item.original, item.alpha)
        return [item]

    def flush(self) -> list[FrameItem]:
        return []
