"""A "flickering colorizer" for measuring smoothers: true colors plus independent per-frame errors.

Per-frame colorizers err differently on every frame. This stand-in makes that measurable on a
color clip: it returns the clip's true ab plus, independently for each frame, a global color
shift, a few local blotches, and hue rotations of soft regions, so a smoother's output can be
compared with the truth as well as with itself over time.
"""
from __future__ import annotations

import numpy as np


def _blob(h: int, w: int, rng: np.random.Generator, radius: tuple[float, float]) -> np.ndarray:
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    r = rng.uniform(*radius) * min(h, w)
    y, x = np.ogrid[0:h, 0:w]
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)).astype(np.float32)


def flicker(ab: np.ndarray, frame: int, seed: int = 0, *, shift: float = 5.0, blotches: int = 4,
            blotch_amplitude: float = 12.0, regions: int = 2, max_hue_degrees: float = 40.0) -> np.ndarray:
    """``ab`` (H, W, 2) with this frame's independent errors (deterministic in seed and frame)."""
    rng = np.random.default_rng([seed, frame])
    h, w = ab.shape[:2]
    out = ab + rng.normal(0, shift, 2).astype(np.float32)
    for _ in range(blotches):
        out += _blob(h, w, rng, (0.08, 0.2))[..., None] * rng.normal(0, blotch_amplitude, 2).astype(np.float32)
    for _ in range(regions):
        mask = _blob(h, w, rng, (0.15, 0.3))
        theta = np.deg2rad(rng.uniform(-max_hue_degrees, max_hue_degrees))
        c, s = np.cos(theta), np.sin(theta)
        rotated = np.stack([c * out[..., 0] - s * out[..., 1], s * out[..., 0] + c * out[..., 1]], axis=2)
        out += mask[..., None] * (rotated - out)
    return out.astype(np.float32)
