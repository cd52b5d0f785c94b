"""Colorfulness as DDColor computes it (Hasler & Suesstrunk with absolute opponents)."""
from __future__ import annotations

import numpy as np


def colorfulness(rgb: np.ndarray) -> float:
    """uint8 RGB (H, W, 3) -> colorfulness; 0 for a gray picture."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg = np.abs(r - g)
    yb = np.abs(0.5 * (r + g) - b)
    # Population standard deviation, as numpy's default and DDColor's code.
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
