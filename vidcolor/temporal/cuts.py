"""Scene-cut detection from what the flow already measured: how much of a frame it explains.

A hard cut leaves most of the new frame unexplained by the previous one, all at once. Fast
motion lowers that share too, but for many frames in a row; a fade changes only the levels
(matched before comparing); a dissolve changes every pixel a little per frame. So a cut is a
frame whose trust is low, far below the recent level, and whose lightness histogram moved
(or whose trust collapsed outright: shot and reverse shot have alike histograms).
"""
from __future__ import annotations

from collections import deque

import numpy as np

CUT_TRUST = 0.2  # at most this share of the picture explained by the previous frame
CUT_DROP = 0.5  # and at most this fraction of the recent (median) share
CUT_HISTOGRAM = 0.05  # and the lightness histogram's shape moved at least this much (JS) ...
SURE_CUT_TRUST = 0.15  # ... unless almost nothing matches at all
SURE_CUT_DROP = 0.25  # ... or the share fell to a quarter at once (a cut between alike shots)
MIN_CONTRAST = 3.0  # standard deviation of lightness (0-100) below which a frame is flat
HISTORY = 8
HISTOGRAM_BINS = 32


def histogram(L: np.ndarray) -> np.ndarray:
    """The shape of the lightness distribution, its level and contrast taken out: the exposure
    flicker of old film and fades change those, a cut changes the shape."""
    z = (L - L.mean()) / max(float(L.std()), 1e-3)
    h, _ = np.histogram(z, bins=HISTOGRAM_BINS, range=(-3.0, 3.0))
    return h / max(1, h.sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (natural log) of two distributions; 0 <= JS <= ln 2."""
    m = 0.5 * (p + q)
    return 0.5 * (_kl(p, m) + _kl(q, m))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


class CutDetector:
    """Feed it, in order, each frame's trust, histogram distance to its predecessor, and the lower
    lightness contrast (standard deviation) of the two frames."""

    def __init__(self, recent=()):
        self._recent: deque[float] = deque(recent, maxlen=HISTORY)

    @property
    def recent(self) -> list[float]:
        return list(self._recent)

    def update(self, trust: float, histogram_distance: float, contrast: float) -> bool:
        recent = float(np.median(self._recent)) if self._recent else 1.0
        self._recent.append(trust)
        if contrast < MIN_CONTRAST or trust > CUT_TRUST or trust > CUT_DROP * recent:
            return False
        return (histogram_distance >= CUT_HISTOGRAM or trust <= SURE_CUT_TRUST
                or trust <= SURE_CUT_DROP * recent)
