"""Warping error E_warp (Lai et al., ECCV 2018) of a colorized video, measured on the input's flow.

E_pair(t) = sum_x M(x) ||V_t(x) - V_{t+1}(x + f(x))||^2 / sum_x M(x), with V the output in RGB
[0, 1], f the flow of the *input* from t to t+1 and M Lai et al.'s non-occlusion mask
(forward-backward test and motion boundaries); E_warp is the mean over consecutive pairs.
Here the flow is OpenCV DIS instead of FlowNet2, everything is measured at the flow's working
resolution (480 pixels on the long side, area-averaged), and pairs across a scene cut are left
out (they have no correspondence).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..temporal.flow import PairFlow, warp


def work_rgb(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 RGB -> float RGB in [0, 1] at the working resolution ``shape`` (h, w)."""
    h, w = shape
    if rgb.shape[:2] != (h, w):
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    return rgb.astype(np.float32) / np.float32(255.0)


def pair_error(before: np.ndarray, after: np.ndarray, pair: PairFlow) -> float | None:
    """E_pair for two working-resolution float RGB frames; None when no pixel is unoccluded."""
    mask = pair.valid
    n = int(mask.sum())
    if n == 0:
        return None
    diff = before - warp(after, pair.fw)
    return float(np.sum(np.square(diff)[mask]) / n)
