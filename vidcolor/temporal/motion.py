"""Follow the input's lightness frame by frame: flow to the previous frame, trust, scene cuts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cuts import CutDetector, histogram, js_divergence
from .flow import FLOW_SIZE, FlowEstimator, PairFlow, work_lightness


@dataclass
class Step:
    """What is known about one frame relative to the one before it."""

    L: np.ndarray  # lightness at the working resolution
    pair: PairFlow | None  # flow from the previous frame; None where a shot starts
    cut: bool  # a scene cut (or a change of frame size) right before this frame
    trust: float  # share of this frame the previous one explains (0 where a shot starts)


class MotionTracker:
    """One instance per video; ``push`` each frame's full-resolution Lab lightness in order."""

    def __init__(self, flow_size: int = FLOW_SIZE, preset: str = "medium"):
        self.flow_size = flow_size
        self._flow = FlowEstimator(preset)
        self._cuts = CutDetector()
        self._prev: tuple[np.ndarray, np.ndarray, tuple, float] | None = None

    def push(self, L: np.ndarray) -> Step:
        small = work_lightness(L, self.flow_size)
        hist, contrast = histogram(small), float(small.std())
        prev, self._prev = self._prev, (small, hist, L.shape, contrast)
        if prev is None:
            return Step(small, None, False, 0.0)
        if prev[2] != L.shape:  # the stream changed size: nothing carries over
            return Step(small, None, True, 0.0)
        pair = self._flow.pair(prev[0], small)
        trust = pair.trust
        if self._cuts.update(trust, js_divergence(prev[1], hist), min(contrast, prev[3])):
            return Step(small, None, True, trust)
        return Step(small, pair, False, trust)
