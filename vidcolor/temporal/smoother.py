"""Motion-compensated smoothing of Lab chroma over time: the one implementation.

For each frame t, the ab of the frames t-R .. t+R in the same shot is warped onto frame t
along the chained optical flow of the input's lightness, and averaged with frame t's own ab,
weighted by a Gaussian in time and by the per-pixel trust in the flow. Where the flow is not
trusted (occlusions, motion boundaries, mismatched lightness), frame t's prediction stands.
Both directions are used, so nothing lags behind motion. The window is bounded, so a film of
any length needs memory for 2R+1 frames.

Averaging vectors of differing hue shortens them (that is how averaging washes colors out), so
by default the averaged ab keeps the average chroma magnitude of what was averaged.
"""
from __future__ import annotations

import math
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import VidcolorError
from ..stages import Workers, finished
from .flow import FLOW_SIZE, at_size, landed, positions, sample
from .cuts import HISTORY
from .motion import COLOR_FLOW, FlowsAhead, MotionTracker, Step

DEFAULT_STRENGTH = 0.5
SIGMA_AT_FULL_STRENGTH = 4.0  # frames
MAX_CHROMA_GAIN = 2.0


def window(strength: float) -> tuple[float, int]:
    """(sigma, radius) in frames for a strength in [0, 1]."""
    if not 0.0 <= strength <= 1.0:
        raise VidcolorError(f"smoothing strength {strength} must be between 0 (off) and 1")
    sigma = strength * SIGMA_AT_FULL_STRENGTH
    return sigma, math.ceil(2 * sigma)


def context_frames(strength: float) -> tuple[int, int]:
    """Frames a part of a film needs decoded before and after it for its smoothed color to equal
    an uninterrupted run's: the window's radius on both sides; before it also the previous frame
    (for the flow) and the cut detector's history."""
    _, radius = window(strength)
    if radius == 0:
        return 0, 0
    return radius + 1 + HISTORY, radius


@dataclass
class Smoothed:
    ab: np.ndarray  # smoothed ab, same shape as given
    raw: np.ndarray  # the ab as given
    tag: object  # the caller's tag, passed through
    step: Step  # the motion analysis of this frame (flow from the previous frame, cut, trust)


@dataclass
class _Frame:
    ab: np.ndarray
    tag: object
    step: Step
    held: tuple  # what the blend reads: ``Held`` (ab, forward, backward), as arrays or on the device


def _hold(ab: np.ndarray, pair) -> tuple:
    """``smoother_torch.Held``'s layout, for the OpenCV blend: NumPy arrays (fetched where the flow
    was judged on the device)."""
    if pair is None:
        return ab, None, None
    fw, bw, trust_fw, trust_bw = (x if isinstance(x, np.ndarray) else np.ascontiguousarray(x.cpu().numpy())
                                  for x in (pair.fw, pair.bw, pair.trust_fw, pair.trust_bw))
    return ab, (fw, trust_fw), (bw, trust_bw)


class ChromaSmoother:
    """Streaming smoother: ``push`` frames in order, get smoothed ones back R frames later.

    ``push(L, ab)`` takes one frame's full-resolution lightness (H, W) in [0, 100] and its ab
    (h, w, 2) at any resolution (the model's grid is enough) and returns the frames that are
    now final, in order; ``flush()`` returns the rest at the end.

    With ``workers`` > 1 the flow of several frame pairs, and the blends of several frames, are
    computed at once on that many threads (OpenCV releases the GIL): the same numbers, later.
    The cut test and the order stay sequential.

    ``device``: blend in torch there (``smoother_torch``: a GPU, or the CPU to compare) instead of
    in OpenCV; the flow is DIS on CPU threads either way.
    """

    def __init__(self, strength: float = DEFAULT_STRENGTH, *, flow_size: int = FLOW_SIZE,
                 preserve_chroma: bool = True, tracker: MotionTracker | None = None, workers: int = 1,
                 device=None):
        self.sigma, self.radius = window(strength)
        self._hold, self._blend = _hold, _blend
        self._no_room: tuple[type[BaseException], ...] = ()  # what says the device is full
        device = device if self.radius else None
        if device is not None:
            import torch

            from .smoother_torch import DeviceBlend
            on_device = DeviceBlend(device, MAX_CHROMA_GAIN)
            self._hold, self._blend = on_device.hold, on_device.blend
            self._no_room = (torch.OutOfMemoryError,)
        self.preserve_chroma = preserve_chroma
        # Where the blends read them, the flows are judged: on the device.
        self.tracker = tracker or MotionTracker(flow_size, COLOR_FLOW, device)
        self._frames: deque[_Frame] = deque()
        self._first = 0  # index of self._frames[0]
        self._next = 0  # index of the next frame to blend
        self._count = 0
        self._weights = [math.exp(-0.5 * (k / self.sigma) ** 2) if self.sigma else 0.0
                         for k in range(self.radius + 1)]
        self._workers = Workers(workers, "vidcolor-smooth")
        self._flows = FlowsAhead(self.tracker, self._workers)
        weakref.finalize(self, self._workers.close)
        self._depth = 2 * workers  # frames in flight at each of the two parallel steps
        self._blending: deque = deque()  # (frame, smoothed-ab future)

    def push(self, L: np.ndarray, ab: np.ndarray, tag=None, step: Step | None = None) -> list[Smoothed]:
        """``step``: this frame's motion where the caller follows it already (``ChromaGuide`` does, on
        the same flow), so none is computed here; give it with every frame or with none."""
        ab = np.asarray(ab, np.float32)
        if step is not None:
            self._add(ab, tag, step)
        else:
            for flowed in self._flows.push(L, (ab, tag)):
                self._track(*flowed)
        return self._collect(self._depth)

    def flush(self) -> list[Smoothed]:
        for flowed in self._flows.flush():
            self._track(*flowed)
        self._blend_until(self._count)
        return self._collect(0)

    def stream(self, items) -> Iterator[Smoothed]:
        """Smooth an iterable of (L, ab) or (L, ab, tag), lazily."""
        for item in items:
            yield from self.push(*item)
        yield from self.flush()

    # -- internals ----------------------------------------------------------------------
    def _track(self, prev, sample, flow, item) -> None:
        """The next frame's flow is in: the cut test, then on."""
        self._add(*item, self.tracker.step(prev, sample, flow))

    def _add(self, ab: np.ndarray, tag, step: Step) -> None:
        """The next frame, its motion known: blend what is now final."""
        try:
            held = self._hold(ab, step.pair)
        except self._no_room:  # the network's batches come first: blend in OpenCV from here on
            self._hold, self._blend, self._no_room = _hold, _blend, ()
            self.tracker.device = None
            for f in self._frames:
                f.held = _hold(f.ab, f.step.pair)
            held = _hold(ab, step.pair)
        self._frames.append(_Frame(ab, tag, step, held))
        self._count += 1
        if step.cut:  # everything before the cut is final
            self._blend_until(self._count - 1)
        self._blend_until(self._count - self.radius)

    def _collect(self, keep: int) -> list[Smoothed]:
        """The blended frames, in order: those done, and any beyond ``keep`` still running."""
        out = []
        while self._blending and (len(self._blending) > keep or self._blending[0][1].done()):
            f, ab = self._blending.popleft()
            out.append(Smoothed(ab.result(), f.ab, f.tag, f.step))
        return out

    def _frame(self, index: int) -> _Frame:
        return self._frames[index - self._first]

    def _blend_until(self, end: int) -> None:
        while self._next < end:
            f = self._frame(self._next)
            links = self._links(self._next)
            if any(links):
                sides = [[(far.held[0], *near.held[1 if direction > 0 else 2]) for far, near, direction in side]
                         for side in links]
                blended = self._workers.submit(self._blend_one(f, sides, links))
            else:
                blended = finished(f.ab)
            self._blending.append((f, blended))
            self._next += 1
        while self._first < self._next - self.radius:
            self._frames.popleft()
            self._first += 1

    def _blend_one(self, f: _Frame, sides: list[list[tuple]], links: list[list[tuple]]):
        """Frame f's blend, as things stand now (a worker runs it later): on the device where it is
        held there, in OpenCV from the same frames where the device has no room for it."""
        blend, no_room, own, weights, preserve = self._blend, self._no_room, f.held[0], self._weights, \
            self.preserve_chroma

        def run() -> np.ndarray:
            try:
                return blend(own, sides, weights, preserve)
            except no_room:
                return _blend(f.ab, _as_arrays(links), weights, preserve)
        return run

    def _links(self, t: int) -> list[list[tuple]]:
        """For each direction, each step away from t within its window and shot: (the frame reached,
        the frame holding the flow to it, the direction). ``_blend`` chains and warps them onto t."""
        if self.radius == 0:
            return []
        sides = []
        for direction, limit in ((1, min(self._count - 1, t + self.radius)), (-1, max(self._first, t - self.radius))):
            side = []
            for k in range(1, abs(limit - t) + 1):
                far = t + direction * k
                # A frame holds the flow from the frame before it; None starts a shot.
                near = self._frame(max(far, far - direction))
                if near.step.pair is None:
                    break
                side.append((self._frame(far), near, direction))
            sides.append(side)
        return sides


def _as_arrays(links: list[list[tuple]]) -> list[list[tuple]]:
    """The (ab, flow, trust) of each link as NumPy arrays, for OpenCV's blend, wherever they are held."""
    sides = []
    for side in links:
        steps = []
        for far, near, direction in side:
            _, forward, backward = _hold(None, near.step.pair)
            steps.append((far.ab, *(forward if direction > 0 else backward)))
        sides.append(steps)
    return sides


def _blend(own: np.ndarray, sides: list[list[tuple]], weights: list[float], preserve_chroma: bool) -> np.ndarray:
    """Frame t's ab averaged with its neighbours' warped onto it, weighted by distance and trust.

    The sums are kept one channel each and grown with OpenCV's in-place accumulators: NumPy on
    a channel of an (h, w, 2) array reads and writes with a stride and costs several times more.
    """
    h, w = own.shape[:2]
    a, b = cv2.split(own)
    den = np.ones((h, w), np.float32)
    mag = cv2.magnitude(a, b)
    for side in sides:
        flow = trust = None
        for k, (ab, step_flow, step_trust) in enumerate(side, 1):
            flow, trust = _chain(flow, trust, step_flow, step_trust)
            x, y, weight = at_size(flow, trust * np.float32(weights[k]), h, w)
            warped_a, warped_b = cv2.split(sample(ab, x, y))
            cv2.accumulateProduct(warped_a, weight, a)
            cv2.accumulateProduct(warped_b, weight, b)
            cv2.accumulate(weight, den)
            cv2.accumulateProduct(cv2.magnitude(warped_a, warped_b), weight, mag)
    a /= den
    b /= den
    if preserve_chroma:
        gain = np.clip(mag / den / np.maximum(cv2.magnitude(a, b), 1e-6), 1.0, MAX_CHROMA_GAIN)
        a *= gain
        b *= gain
    return cv2.merge([a, b])


def _chain(flow, trust, step_flow, step_trust):
    """Extend the flow from frame t to the chain's end by one more step, and its trust with it."""
    if flow is None:
        return step_flow, step_trust
    x, y = positions(flow)
    # Two remaps on the same maps: cheaper than stacking flow and trust into one image.
    chained = sample(step_flow, x, y)
    chained += flow
    chained_trust = sample(step_trust, x, y)
    chained_trust *= trust
    chained_trust *= landed(x, y)
    return chained, chained_trust


def smooth_chroma(L: np.ndarray, ab: np.ndarray, *, strength: float = DEFAULT_STRENGTH,
                  flow_size: int = FLOW_SIZE, preserve_chroma: bool = True, device=None) -> np.ndarray:
    """Smooth the chroma of a clip over time along the motion of its lightness.

    ``L``: (N, H, W) float32 Lab lightness in [0, 100]; ``ab``: (N, H, W, 2) float32 Lab a, b of
    the same frames (ab may also be at a lower resolution, e.g. a model's output grid). Returns
    the smoothed ab, same shape. Scene cuts are detected and nothing is carried across them.
    The streaming pipeline uses the same ``ChromaSmoother``; ``device`` as there.
    """
    L = np.asarray(L, np.float32)
    ab = np.asarray(ab, np.float32)
    if L.ndim != 3 or ab.ndim != 4 or ab.shape[-1] != 2 or len(L) != len(ab):
        raise ValueError(f"expected L (N, H, W) and ab (N, H, W, 2); got {L.shape} and {ab.shape}")
    smoother = ChromaSmoother(strength, flow_size=flow_size, preserve_chroma=preserve_chroma, device=device)
    out = np.empty_like(ab)
    for i, s in enumerate(smoother.stream(zip(L, ab))):
        out[i] = s.ab
    return out
