"""Color Distribution Consistency (CDC), as defined by TCVC and used by the NTIRE 2023 challenge.

For each frame distance d in (1, 2, 4): the Jensen-Shannon divergence (natural log) between the
256-bin histograms of each RGB channel of frames t and t+d, averaged over t and the channels;
CDC is the mean over the three distances. Lower is more consistent.
"""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from ..temporal.cuts import js_divergence

DISTANCES = (1, 2, 4)


def channel_histograms(rgb: np.ndarray) -> list[np.ndarray]:
    n = rgb.shape[0] * rgb.shape[1]
    return [cv2.calcHist([rgb], [c], None, [256], [0, 256]).ravel() / n for c in range(3)]


class CDC:
    """Streaming CDC: ``update`` with each frame in order, then ``value``."""

    def __init__(self):
        self._recent: deque[list[np.ndarray]] = deque(maxlen=max(DISTANCES))
        self._sums = {d: 0.0 for d in DISTANCES}
        self._counts = {d: 0 for d in DISTANCES}

    def update(self, rgb: np.ndarray) -> None:
        hists = channel_histograms(rgb)
        for d in DISTANCES:
            if len(self._recent) >= d:
                before = self._recent[-d]
                self._sums[d] += np.mean([js_divergence(p, q) for p, q in zip(before, hists)])
                self._counts[d] += 1
        self._recent.append(hists)

    @property
    def value(self) -> float | None:
        per_distance = [self._sums[d] / self._counts[d] for d in DISTANCES if self._counts[d]]
        return float(np.mean(per_distance)) if per_distance else None
