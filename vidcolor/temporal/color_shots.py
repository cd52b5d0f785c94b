"""Tell the shots already in color from the black-and-white ones (``--skip-color``).

The test looks at how much a frame's chroma varies *independently of its lightness*: the ab of
each pixel less the median ab of the pixels of about the same lightness. A toned or tinted
black-and-white print (sepia, selenium, the blue of a night scene) has a hue that follows its
density, so it scores near zero, as plain gray does; real color does not. On the clips in
../shared/media the black-and-white films (plain and toned sepia) score at most 3.2 and the
color ones at least 9.8; the threshold sits between.

A shot is a run of frames on one side of the threshold: the class changes only after ``RUN``
frames in a row say so, so a dark frame or a fade inside a color shot does not flip it, and
the frames of a change are classed with the new shot, not the old one.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from ..lab import to_float

COLOR_SCORE = 6.0  # Lab ab units; see the module docstring
RUN = 12  # frames in a row it takes to change class (half a second at 24 frames/s)
_WIDTH = 128  # the test's thumbnail width
_LIGHTNESS_BINS = 16


def chroma_score(rgb: np.ndarray) -> float:
    """The 90th percentile of how far each pixel's ab lies from the median ab at its lightness."""
    h, w = rgb.shape[:2]
    width = min(_WIDTH, w)
    small = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(to_float(small), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    bins = np.minimum((lab[:, 0] * (_LIGHTNESS_BINS / 100)).astype(np.int32), _LIGHTNESS_BINS - 1)
    residual = np.empty((len(lab), 2), np.float32)
    for b in np.unique(bins):
        here = bins == b
        residual[here] = lab[here, 1:] - np.median(lab[here, 1:], axis=0)
    return float(np.percentile(np.hypot(residual[:, 0], residual[:, 1]), 90))


class ColorShots:
    """Stream (item, rgb) in order; get (item, in_color) back in order, at most ``RUN`` frames late."""

    def __init__(self, run: int = RUN, threshold: float = COLOR_SCORE):
        self.run, self.threshold = run, threshold
        self.state: bool | None = None  # the current shot's class; None before the first decision
        self._pending: deque = deque()  # (item, in_color) not yet decided
        self.kept = 0  # frames classed as color

    def stream(self, items: Iterable[tuple[object, np.ndarray]]) -> Iterator[tuple[object, bool]]:
        for item, rgb in items:
            yield from self.push(item, chroma_score(rgb) >= self.threshold)
        yield from self.flush()

    def push(self, item, in_color: bool) -> list[tuple[object, bool]]:
        self._pending.append((item, in_color))
        if self.state is None:
            if len(self._pending) < self.run:
                return []
            self.state = self._majority()
            return self._release()
        if in_color == self.state:
            return self._release()  # a blip of the other class, if any, was not a shot
        if len(self._pending) >= self.run:
            # What is pending is all of the other class: ``RUN`` in a row make a new shot.
            self.state = in_color
            return self._release()
        return []

    def flush(self) -> list[tuple[object, bool]]:
        if self.state is None and self._pending:
            self.state = self._majority()
        return self._release()

    def _majority(self) -> bool:
        return 2 * sum(c for _, c in self._pending) > len(self._pending)

    def _release(self) -> list[tuple[object, bool]]:
        """Every pending frame, as the current shot's."""
        out = [(item, self.state) for item, _ in self._pending]
        self._pending.clear()
        self.kept += len(out) if self.state else 0
        return out
