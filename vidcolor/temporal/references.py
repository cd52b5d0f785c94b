"""Colors the film must follow: reference keyframes, whole or partial, carried through their shot.

A reference says what the color of some pixels of one frame should be: a keyframe (a color
version of the frame) or a partial one (RGBA: only its opaque pixels count). What is carried is
the *correction*, the reference's ab less the model's ab on that frame, so a keyframe equal to
the model's own colors changes nothing. It reaches the other frames of its shot two ways:

- **Along the flow**, the smoother's (forward-backward, motion-boundary and lightness trust): the
  correction is warped frame by frame, forward and backward from its keyframe, its confidence
  multiplied by the trust at each step, so it holds where the same surface is seen again. Where
  the reference differs from the model clearly (by ``ABSOLUTE_FROM`` ab units or more), it is the
  reference's own color that is carried, not the model's plus a correction: the model's flicker
  does not come back through it. Where they agree, the model's color stands.
- **Through the model's own consistency.** Within a shot the model gives the same wrong color to
  the same object, so at the keyframe vidcolor learns how the model's colors map to the
  reference's: the mean correction per bin of (lightness, predicted a, predicted b), with its
  confidence (how much of the keyframe is in the bin, and how much it agrees). Where the flow
  cannot follow (new content, occlusions, far from the keyframe), the same correction applies to
  the same predicted color, as far as the bin is confident.

Between two keyframes of a shot, both count, weighted linearly by distance in time. Nothing
crosses a scene cut, and where nothing applies the model's colors stand exactly.
"""
from __future__ import annotations

import bisect
import weakref
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidcolorError
from ..stages import Workers, finished
from .flow import FLOW_SIZE, at_size, landed, sample
from .frame_reference import Reference, reference_from_image
from .hints import Hint, hints_reference, parse_hints
from .motion import COLOR_FLOW, MotionTracker, Step

# Bins of the mapping from the model's colors to the reference's: lightness in steps of 10, a and
# b in steps of 6 Lab units over [-96, 96) (DDColor's ab stays well inside).
L_STEP, AB_STEP, AB_LIMIT = 10.0, 6.0, 96.0
L_BINS, AB_BINS = int(100 / L_STEP) + 1, int(2 * AB_LIMIT / AB_STEP)
# Keyframe pixels (of the ab grid) a bin needs for half confidence; a bin's correction counts
# fully only where its pixels agree (their spread, in ab units, small beside the correction).
SUPPORT = 24.0
SPREAD = 6.0
APPLY_SIZE = 256  # the mapping is looked up on at most about this many pixels a side
# A correction this large (ab units) carries the reference's color itself; smaller ones, in
# proportion, the model's color plus the correction.
ABSOLUTE_FROM = 8.0


class ChromaMapping:
    """The correction a keyframe asks of each predicted color: fit on the keyframe, applied to
    the other frames of its shot where the flow cannot carry the keyframe itself."""

    def __init__(self, L: np.ndarray, ab: np.ndarray, correction: np.ndarray, weight: np.ndarray,
                 sampled: bool = False):
        index = _bins(L, ab)
        size = L_BINS * AB_BINS * AB_BINS

        def total(values):
            return _spread_bins(np.bincount(index, weights=values.ravel(), minlength=size))

        count = total(weight)
        # Of a partial keyframe, the pixels left transparent keep the model's colors there: a color
        # the keyframe mostly left alone is mostly left alone elsewhere too.
        left_alone = 0.0 if sampled else total(1.0 - weight)
        sums = [total(weight * correction[..., c]) for c in (0, 1)]
        squares = total(weight * (correction ** 2).sum(axis=2))
        held = count > 1e-6
        mean = np.zeros((size, 2), np.float32)
        for c in (0, 1):
            mean[held, c] = sums[c][held] / count[held]
        variance = np.zeros(size, np.float32)
        variance[held] = np.maximum(squares[held] / count[held] - (mean[held] ** 2).sum(axis=1), 0)
        agreement = 1.0 / (1.0 + variance / (SPREAD ** 2 + 0.25 * (mean ** 2).sum(axis=1)))
        exclusive = count / np.maximum(count + left_alone, 1e-6)
        confidence = (count / (count + SUPPORT) * agreement * exclusive).astype(np.float32)
        self.table = np.concatenate([mean * confidence[:, None], confidence[:, None]], axis=1)

    @classmethod
    def from_table(cls, table: np.ndarray) -> "ChromaMapping":
        """A mapping as ``table`` holds it (one fit before, carried across a segment's edge)."""
        if table.shape != (L_BINS * AB_BINS * AB_BINS, 3):
            raise ValueError(f"a mapping's table has {L_BINS * AB_BINS * AB_BINS} rows of 3, not {table.shape}")
        mapping = cls.__new__(cls)
        mapping.table = np.asarray(table, np.float32)
        return mapping

    def apply(self, L: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the correction (h, w, 2), its confidence (h, w)) for a frame of the shot, interpolated
        between bins (trilinearly), so that a color moving a little moves its correction a little.
        On a grid over APPLY_SIZE pixels wide it is worked out at half size and scaled up: the
        correction is a color's, smooth across the picture but for edges a pixel or two wide."""
        h, w = L.shape
        if max(h, w) > APPLY_SIZE:
            half = (max(1, w // 2), max(1, h // 2))
            small = self.apply(cv2.resize(L, half, interpolation=cv2.INTER_AREA),
                               cv2.resize(ab, half, interpolation=cv2.INTER_AREA))
            return tuple(cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR) for x in small)
        out = np.zeros((L.size, 3), np.float32)  # correction times confidence, and confidence
        for index, share in _corners(L, ab):
            out += share[:, None] * self.table.take(index, axis=0)
        confidence = out[:, 2]
        correction = out[:, :2] / np.maximum(confidence, 1e-6)[:, None]
        return correction.reshape(h, w, 2), confidence.reshape(h, w)


def _coordinates(L: np.ndarray, ab: np.ndarray):
    """Each pixel's place in the table, in bins: lightness bins centred on multiples of L_STEP,
    a and b bins on the middles of their steps."""
    return (L.ravel() / L_STEP, (ab[..., 0].ravel() + AB_LIMIT) / AB_STEP - 0.5,
            (ab[..., 1].ravel() + AB_LIMIT) / AB_STEP - 0.5)


def _bins(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The nearest bin of each pixel."""
    l, a, b = (np.rint(c).astype(np.int64) for c in _coordinates(L, ab))
    return _index(l, a, b)


def _index(l, a, b) -> np.ndarray:
    l, a, b = np.clip(l, 0, L_BINS - 1), np.clip(a, 0, AB_BINS - 1), np.clip(b, 0, AB_BINS - 1)
    return (l * AB_BINS + a) * AB_BINS + b


def _corners(L: np.ndarray, ab: np.ndarray):
    """The eight bins around each pixel, with their trilinear shares. Each axis's two bins (clipped
    to the table) and shares are worked out once, and the products of two axes once for four corners."""
    coordinates = _coordinates(L, ab)
    low = [np.floor(c).astype(np.int64) for c in coordinates]
    frac = [(c - f).astype(np.float32) for c, f in zip(coordinates, low)]
    shares = [(1 - f, f) for f in frac]
    (l0, l1), (a0, a1), (b0, b1) = ((np.clip(x, 0, n - 1), np.clip(x + 1, 0, n - 1))
                                    for x, n in zip(low, (L_BINS, AB_BINS, AB_BINS)))
    for dl, l in enumerate((l0, l1)):
        for da, a in enumerate((a0, a1)):
            row = (l * AB_BINS + a) * AB_BINS
            share_la = shares[0][dl] * shares[1][da]
            for db, b in enumerate((b0, b1)):
                yield row + b, share_la * shares[2][db]


def _spread_bins(table: np.ndarray) -> np.ndarray:
    """Each bin's total with half of its neighbours' in a and b: a color at a bin's edge is
    mapped as its neighbours are."""
    t = table.reshape(L_BINS, AB_BINS, AB_BINS)
    out = t.copy()
    for axis in (1, 2):
        out[(slice(None),) * axis + (slice(1, None),)] += 0.5 * t[(slice(None),) * axis + (slice(None, -1),)]
        out[(slice(None),) * axis + (slice(None, -1),)] += 0.5 * t[(slice(None),) * axis + (slice(1, None),)]
    return out.ravel()


# What a reference carries to a frame, channel by channel, each times its confidence c: the
# correction R (the reference's ab less the model's at the keyframe), how absolute it is (alpha),
# the model's ab at the keyframe P times alpha, and c itself.
_R, _ALPHA, _P, _C = slice(0, 2), 2, slice(3, 5), 5


def _carry(carried: np.ndarray, flow: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Carry onto the next frame (``flow``: where its pixels are found in the frame carried from),
    the confidence times the trust there."""
    h, w = carried.shape[:2]
    x, y, weight = at_size(flow, trust, h, w)
    weight = weight * landed(x, y)
    return sample(carried, x, y) * weight[..., None]


def _by_flow(carried: np.ndarray, ab_t: np.ndarray) -> np.ndarray:
    """The change a carried reference makes to frame t's ab: c R + c alpha (P - ab_t), that is, where
    alpha is 1, c times the reference's color in place of the model's."""
    return carried[..., _R] + carried[..., _P] - carried[..., _ALPHA, None] * ab_t


# How far back a keyframe reaches (frames before it in its shot): frames wait this long for a
# keyframe ahead of them, so memory stays bounded (about 4 MB a frame at a 512 grid).
LOOK_BACK = 48


@dataclass
class Guided:
    ab: np.ndarray  # guided ab, the shape given
    tag: object  # the caller's tag, passed through
    reach: float  # share of the frame's pixels the references hold (flow or mapping), 0 to 1
    step: Step  # the motion it was guided along (the smoother takes it: one flow for both)


@dataclass
class _Pending:
    """A frame on its way: what its guiding needs (and, waiting for a keyframe ahead of it, the
    backward pass)."""

    position: float
    L: np.ndarray  # lightness on the chroma's grid
    ab: np.ndarray
    step: Step
    tag: object
    before: object  # the change and reach the keyframe before it makes (a future of ``_change``), or None
    before_at: float | None  # that keyframe's position


class ChromaGuide:
    """Streaming: ``push`` frames in order, get guided ones back in order; ``flush`` at the end.

    ``references``: ``{position: reference}`` (a keyframe, RGB or RGBA, see ``reference_from_image``,
    or a list of hints), any mapping (``reference_files.KeyframeFiles`` reads each keyframe when
    its frame comes),
    where a position is the frame number the caller passes with each frame. A frame is returned
    at once unless a keyframe lies ahead of it in the next ``look_back`` frames: it then waits for it.

    ``workers``: a ``stages.Workers`` on whose threads each frame is guided (the mapping looked up,
    the carried correction applied: most of the cost), several at once, returned in order a few
    frames later; carrying the keyframes from frame to frame stays in order here. By default, at once.
    """

    def __init__(self, references: Mapping, *, look_back: int = LOOK_BACK,
                 flow_size: int = FLOW_SIZE, tracker: MotionTracker | None = None, workers: Workers | None = None):
        self.images = references
        self.keys = sorted(self.images)
        self.look_back = look_back
        self.tracker = tracker or MotionTracker(flow_size, COLOR_FLOW)
        self._pending: list[_Pending] = []
        # The keyframe being carried: its position, what it carries (a future of ``_carry``), its mapping.
        self._forward: tuple[float, object, ChromaMapping] | None = None
        self._workers = workers or Workers(1, "vidcolor-guide")
        self._guiding: deque = deque()  # futures of Guided, in order
        # Carrying a keyframe from frame to frame is a chain, in order: on a thread of its own beside the
        # workers, so the caller only hands it on (or at once, where frames are guided one at a time).
        self._chain = ThreadPoolExecutor(1, "vidcolor-guide-carry") if self._workers.n > 1 else None
        if self._chain is not None:
            weakref.finalize(self, self._chain.shutdown, wait=False)

    def push(self, L: np.ndarray, ab: np.ndarray, position: float, tag=None, step: Step | None = None) -> list[Guided]:
        """``step``: this frame's, where the caller stepped ``self.tracker`` itself (its flows computed
        ahead on several threads, ``motion.FlowsAhead``); by default the tracker is pushed here."""
        ab = np.asarray(ab, np.float32)
        step = self.tracker.push(L) if step is None else step
        small_L = cv2.resize(L, ab.shape[1::-1], interpolation=cv2.INTER_AREA)
        if step.pair is None:  # a new shot: no keyframe ahead can reach the frames waiting
            self._release()
            self._forward = None
        elif self._forward is not None:
            k, carried, mapping = self._forward
            self._forward = (k, self._carried(carried, step.pair.bw, step.pair.trust_bw), mapping)
        if position in self.images:
            self._keyframe(L.shape, small_L, ab, step, position, tag)
            return self._collect(2 * self._workers.n)
        before = self._workers.submit(_change, self._forward, small_L, ab) if self._forward else None
        frame = _Pending(position, small_L, ab, step, tag, before, self._forward[0] if self._forward else None)
        i = bisect.bisect_right(self.keys, position)  # a film may have a keyframe per shot: thousands
        ahead = self.keys[i] if i < len(self.keys) else None
        if ahead is not None and ahead - position <= self.look_back:
            if before is not None:
                before.done()  # one at a time, its change is worked out now: not the carried keyframe kept
            self._pending.append(frame)
        else:
            self._release()
            self._guide(frame, [(frame.before, 1.0)] if frame.before else [])
        return self._collect(2 * self._workers.n)

    def flush(self) -> list[Guided]:
        self._release()
        return self._collect(0)

    def save(self, path: Path) -> None:
        """Write what the frames after the last one pushed need of those before it (the tracker's
        last frame and the keyframe being carried), for a run to go on from there in another
        process: a film's next segment. Frames still waiting for a keyframe ahead are left out:
        a segment's decoding reaches that keyframe (``resume.segments.plan_segments``)."""
        state = {f"tracker_{k}": v for k, v in self.tracker.state().items()}
        if self._forward is not None:
            k, carried, mapping = self._forward
            state.update(keyframe=np.float64(k), carried=carried.result(), mapping=mapping.table)
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as f:
            np.savez(f, **state)
        partial.replace(path)

    def load(self, path: Path) -> None:
        """Go on from what ``save`` wrote; a VidcolorError where it cannot be read."""
        try:
            with np.load(path, allow_pickle=False) as f:
                state = {k: f[k] for k in f.files}
            self.tracker.restore({k[len("tracker_"):]: v for k, v in state.items() if k.startswith("tracker_")})
            self._forward = None if "keyframe" not in state else \
                (float(state["keyframe"]), finished(state["carried"].astype(np.float32)),
                 ChromaMapping.from_table(state["mapping"]))
        except (OSError, ValueError, KeyError) as e:
            raise VidcolorError(f"{path}: the colors carried from the segment before cannot be read ({e})") from None
        self._pending = []

    def _keyframe(self, shape, small_L, ab, step, position, tag) -> None:
        ref = self._reference(self.images[position], position, shape, small_L, ab)
        carried = finished(_start(ref, ab))
        mapping = ChromaMapping(small_L, ab, ref.ab - ab, ref.weight, ref.sampled)
        forward = (position, carried, mapping)
        # The frames waiting, back to front: carry the keyframe onto each along its flow forward.
        back, after = carried, step
        waiting = []
        for frame in reversed(self._pending):
            back = self._carried(back, after.pair.fw, after.pair.trust_fw)
            after = frame.step
            now = self._workers.submit(_change, (position, back, mapping), frame.L, frame.ab)
            shares = [(now, 1.0)]
            if frame.before is not None:
                w = (position - frame.position) / (position - frame.before_at)
                shares = [(frame.before, w), (now, 1.0 - w)]
            waiting.append((frame, shares))
        for frame, shares in reversed(waiting):
            self._guide(frame, shares)
        self._pending = []
        self._forward = forward
        own = self._workers.submit(_change, forward, small_L, ab)
        self._guide(_Pending(position, small_L, ab, step, tag, None, None), [(own, 1.0)])

    @staticmethod
    def _reference(given, position, shape, small_L, ab) -> Reference:
        """A frame's reference on the chroma's grid: from its keyframe (an image, or a file read
        only now) or its hints."""
        if isinstance(given, (list, tuple)):
            hints = given if all(isinstance(h, Hint) for h in given) else \
                parse_hints(given, shape, f"hints for frame {position}")
            return hints_reference(hints, small_L, ab, shape)
        return reference_from_image(given, shape, ab.shape[:2], f"reference for frame {position}")

    def _release(self) -> None:
        for f in self._pending:
            self._guide(f, [(f.before, 1.0)] if f.before else [])
        self._pending = []

    def _carried(self, carried, flow: np.ndarray, trust: np.ndarray):
        """``_carry`` of ``carried`` (a future) one step further: a future of its own."""
        if self._chain is None:
            return finished(_carry(carried.result(), flow, trust))
        return self._chain.submit(lambda: _carry(carried.result(), flow, trust))

    def _guide(self, frame: _Pending, shares) -> None:
        self._guiding.append(self._workers.submit(_finish, frame, shares))

    def _collect(self, keep: int) -> list[Guided]:
        """The guided frames, in order: those done, and any beyond ``keep`` still running."""
        out = []
        while self._guiding and (len(self._guiding) > keep or self._guiding[0].done()):
            out.append(self._guiding.popleft().result())
        return out


def _change(forward, small_L, ab) -> tuple[np.ndarray, np.ndarray]:
    """(the change a keyframe's carried reference makes to a frame, and its reach per pixel)."""
    _, carried, mapping = forward
    carried = carried.result()
    mapped, mapped_confidence = mapping.apply(small_L, ab)
    by_flow = carried[..., _C]
    change = _by_flow(carried, ab) + ((1.0 - by_flow) * mapped_confidence)[..., None] * mapped
    return change, np.maximum(by_flow, mapped_confidence)


def _start(ref: Reference, ab_k: np.ndarray) -> np.ndarray:
    """What a keyframe carries, on its own frame."""
    correction = ref.ab - ab_k
    alpha = np.clip(np.linalg.norm(correction, axis=2) / ABSOLUTE_FROM, 0.0, 1.0)
    c = ref.weight
    return np.dstack([correction * c[..., None], alpha * c, ab_k * (alpha * c)[..., None], c]).astype(np.float32)


def _finish(frame: _Pending, shares) -> Guided:
    """The frame guided by the keyframes carried to it (``shares``: each one's change, as a future of
    ``_change``, and its weight). Runs on a worker, after the changes it waits for were submitted."""
    if not shares:
        return Guided(frame.ab, frame.tag, 0.0, frame.step)
    ab = frame.ab.copy()
    held = np.zeros(ab.shape[:2], np.float32)
    for change_reach, w in shares:
        change, reach = change_reach.result()
        ab += np.float32(w) * change
        held = np.maximum(held, np.float32(w) * reach)
    return Guided(ab, frame.tag, float(held.mean()), frame.step)


def guide_chroma(L: np.ndarray, ab: np.ndarray, references: dict, *, flow_size: int = FLOW_SIZE) -> np.ndarray:
    """The predicted chroma ``ab`` of a clip, made to follow ``references``.

    ``L``: (N, H, W) float32 Lab lightness in [0, 100]; ``ab``: (N, h, w, 2) float32 Lab a, b of
    the same frames (at the frames' size or lower, such as a model's grid); ``references``: a dict
    ``{frame index: reference}``, each an (H', W', 3) uint8 RGB keyframe, an (H', W', 4) RGBA
    partial one (its opaque pixels are the reference), of the frames' aspect ratio, or a list of
    color hints (dicts as in a hints file: ``x``, ``y`` or ``points``, ``color``, ``radius``, in
    the frames' pixels; see ``vidcolor.temporal.hints``). Returns the
    guided ab, same shape; frames no reference reaches come back as given. The streaming
    pipeline uses the same ``ChromaGuide``; here every keyframe reaches back through its whole shot.
    """
    return guide(L, ab, references, flow_size=flow_size)[0]


def guide(L: np.ndarray, ab: np.ndarray, references: dict, *, flow_size: int = FLOW_SIZE,
          flow_preset: str = COLOR_FLOW):
    """``guide_chroma``, and each frame's reach (the share of its pixels the references hold);
    ``flow_preset``: DIS's, to compare."""
    L = np.asarray(L, np.float32)
    ab = np.asarray(ab, np.float32)
    if L.ndim != 3 or ab.ndim != 4 or ab.shape[-1] != 2 or len(L) != len(ab):
        raise ValueError(f"expected L (N, H, W) and ab (N, h, w, 2); got {L.shape} and {ab.shape}")
    for index in references:
        if not 0 <= int(index) < len(L):
            raise VidcolorError(f"reference for frame {index}: the clip has frames 0 to {len(L) - 1}")
    guide_ = ChromaGuide({int(k): v for k, v in references.items()}, look_back=len(L),
                         tracker=MotionTracker(flow_size, flow_preset))
    out, reach = np.empty_like(ab), np.zeros(len(L), np.float32)
    done = [g for t in range(len(L)) for g in guide_.push(L[t], ab[t], t, tag=t)] + guide_.flush()
    for g in done:
        out[g.tag], reach[g.tag] = g.ab, g.reach
    return out, reach
