"""Follow the input's lightness frame by frame: flow to the previous frame, trust, scene cuts."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..stages import Workers
from .cuts import CutDetector, histogram, js_divergence
from .flow import FLOW_SIZE, FlowEstimator, PairFlow, dis_preset, judge, work_lightness


# The flow that carries colors (the smoother's and the references'): DIS's fast preset. It costs
# half of medium at the working size (26 against 52 ms a 1080p frame, benchmarks/smoothing_cost.py)
# and carries colors as well or better: smoothed, the ab error to the truth is 1% lower and E_warp
# within 8% on the three clips of benchmarks/temporal_quality.py (measured on a medium flow of their
# own); keyframes carried along it end 12% closer to the truth, 10% at the ends of their shots
# (benchmarks/references.py). Metrics keep medium (``MotionTracker``'s default): its flow is more
# exact, and E_warp is measured along it.
COLOR_FLOW = "fast"


@dataclass
class Step:
    """What is known about one frame relative to the one before it."""

    L: np.ndarray  # lightness at the working resolution
    pair: PairFlow | None  # flow from the previous frame; None where a shot starts
    cut: bool  # a scene cut (or a change of frame size) right before this frame
    trust: float  # share of this frame the previous one explains (0 where a shot starts)


@dataclass
class Sample:
    """One frame's lightness at the working resolution, and what the cut test needs of it."""

    small: np.ndarray
    histogram: np.ndarray
    contrast: float
    shape: tuple


class MotionTracker:
    """One instance per video; ``push`` each frame's full-resolution Lab lightness in order.

    ``push`` is ``sample`` (in order, cheap), ``flow`` (the cost; may run on any thread, for
    several frames at once) and ``step`` (in order: the cut test).

    ``device``: judge each flow there (``flow_torch``), its maps left there (for ``smoother_torch``);
    DIS runs on the CPU either way. ``None`` again at any time: on the CPU from the next frame on.
    """

    def __init__(self, flow_size: int = FLOW_SIZE, preset: str = "medium", device=None):
        self.flow_size = flow_size
        self._preset = preset
        self.device = device
        self._estimators = threading.local()  # an OpenCV DIS instance is not thread-safe
        self._cuts = CutDetector()
        self._prev: Sample | None = None  # the last frame sampled
        self._stepped: Sample | None = None  # the last frame stepped (flows may be sampled ahead of it)

    def state(self) -> dict[str, np.ndarray]:
        """What the frame after the last one stepped depends on, as arrays (to carry a run across a
        segment's edge)."""
        if self._stepped is None:
            return {}
        p = self._stepped
        return {"small": p.small, "histogram": p.histogram, "contrast": np.float64(p.contrast),
                "shape": np.asarray(p.shape, np.int64), "recent": np.asarray(self._cuts.recent, np.float64)}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        if "small" not in state:
            self._prev = self._stepped = None
            return
        self._prev = self._stepped = Sample(np.asarray(state["small"], np.float32), np.asarray(state["histogram"]),
                                            float(state["contrast"]), tuple(int(x) for x in state["shape"]))
        self._cuts = CutDetector(state["recent"].tolist())

    def push(self, L: np.ndarray) -> Step:
        prev, sample = self.sample(L)
        return self.step(prev, sample, self.flow(prev, sample))

    def sample(self, L: np.ndarray) -> tuple[Sample | None, Sample]:
        """(the previous frame's sample, this frame's)."""
        small = work_lightness(L, self.flow_size)
        sample = Sample(small, histogram(small), float(small.std()), L.shape)
        prev, self._prev = self._prev, sample
        return prev, sample

    def flow(self, prev: Sample | None, sample: Sample) -> PairFlow | None:
        if prev is None or prev.shape != sample.shape:
            return None
        preset = dis_preset(self._preset, sample.small.shape)
        estimator = getattr(self._estimators, preset, None)
        if estimator is None:
            estimator = FlowEstimator(preset)
            setattr(self._estimators, preset, estimator)
        device = self.device
        if device is None:
            return estimator.pair(prev.small, sample.small)
        import torch

        from .flow_torch import judge as judge_on

        flows = estimator.both_ways(prev.small, sample.small)
        try:
            return judge_on(flows, torch.device(device))
        except torch.OutOfMemoryError:  # the network's batches come first
            return judge(flows)

    def step(self, prev: Sample | None, sample: Sample, pair: PairFlow | None) -> Step:
        self._stepped = sample
        if prev is None:
            return Step(sample.small, None, False, 0.0)
        if pair is None:  # the stream changed size: nothing carries over
            return Step(sample.small, None, True, 0.0)
        trust = pair.trust
        if self._cuts.update(trust, js_divergence(prev.histogram, sample.histogram),
                             min(sample.contrast, prev.contrast)):
            return Step(sample.small, None, True, trust)
        return Step(sample.small, pair, False, trust)


class FlowsAhead:
    """A tracker's frames in order, their flows computed ahead on ``workers`` (OpenCV releases the
    GIL): ``push`` a frame's lightness with anything of the caller's, and get back, in order,
    ``(previous sample, sample, flow, item)`` for each frame whose flow is in; the caller steps
    each (``tracker.step``: the cut test), in order. ``flush`` at the end."""

    def __init__(self, tracker: MotionTracker, workers: Workers):
        self.tracker = tracker
        self._workers = workers
        self._depth = 2 * workers.n
        self._ahead: deque = deque()  # (previous sample, sample, flow future, item)

    def push(self, L: np.ndarray, item=None) -> list[tuple]:
        prev, sample = self.tracker.sample(L)
        self._ahead.append((prev, sample, self._workers.submit(self.tracker.flow, prev, sample), item))
        out = []
        while self._ahead and (len(self._ahead) > self._depth or self._ahead[0][2].done()):
            out.append(self._next())
        return out

    def flush(self) -> list[tuple]:
        return [self._next() for _ in range(len(self._ahead))]

    def _next(self) -> tuple:
        prev, sample, flow, item = self._ahead.popleft()
        return prev, sample, flow.result(), item
