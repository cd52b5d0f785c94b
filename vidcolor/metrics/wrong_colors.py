"""A "plausible but consistently wrong" colorizer, for measuring how references correct one.

Automatic colorizers give each object a plausible color that is not its own (the green uniform
comes out brown), and the same wrong color all through the shot. This stand-in makes that
measurable on a color clip: per shot, the true colors are clustered in ab, each cluster gets its
own hue rotation and desaturation (soft assignments, so no new edges appear), the same on every
frame of the shot; plus a mild per-frame flicker.
"""
from __future__ import annotations

import cv2
import numpy as np


class WrongColors:
    """Fit on a shot's first frame (its true ab), then ``__call__`` each frame's true ab."""

    def __init__(self, ab: np.ndarray, seed: int = 0, clusters: int = 5, flicker: float = 1.0,
                 degrees: tuple[float, float] = (60.0, 150.0), saturation: tuple[float, float] = (0.5, 0.9)):
        rng = np.random.default_rng(seed)
        samples = ab.reshape(-1, 2)[rng.choice(ab.shape[0] * ab.shape[1], 4000)].astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.1)
        cv2.setRNGSeed(seed)
        _, _, centres = cv2.kmeans(samples, clusters, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
        self.centres = centres.astype(np.float32)
        angles = np.deg2rad(rng.uniform(*degrees, clusters) * rng.choice([-1, 1], clusters))
        scales = rng.uniform(*saturation, clusters)
        # Per cluster, a 2x2 map: rotate the hue, scale the chroma.
        self.maps = np.stack([s * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
                              for t, s in zip(angles, scales)]).astype(np.float32)
        self.flicker, self.seed = flicker, seed

    def __call__(self, ab: np.ndarray, frame: int) -> np.ndarray:
        d2 = ((ab[:, :, None, :] - self.centres[None, None]) ** 2).sum(axis=3)
        share = np.exp(-(d2 - d2.min(axis=2, keepdims=True)) / 50.0)
        share /= share.sum(axis=2, keepdims=True)
        mapped = np.einsum("kij,hwj->hwki", self.maps, ab)
        out = (share[..., None] * mapped).sum(axis=2)
        rng = np.random.default_rng([self.seed, frame])
        return (out + rng.normal(0, self.flicker, 2)).astype(np.float32)
