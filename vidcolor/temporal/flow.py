"""Optical flow between consecutive frames' lightness (OpenCV DIS), and how far to trust it.

Flow is computed on the input's luminance, which is exact and identical in input and output,
at a working resolution (``FLOW_SIZE`` pixels on the long side): chroma is low-frequency, so
this loses nothing that matters and keeps the cost a few milliseconds per frame.

Flows are backward-warping fields: ``fw[y, x]`` is where pixel (x, y) of frame t is found in
frame t+1, and ``bw`` the same from t+1 back to t.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

FLOW_SIZE = 480
# DIS's fast preset stops at a quarter of the working size: below this long side that is too coarse,
# and medium costs little there, so "fast" means medium.
FAST_FROM = 320
# Occlusion test of Sundaram et al. (2010), as used by Lai et al. (2018) for E_warp: flow that
# does not come back to where it started, and motion boundaries. Squared pixel units.
FB_RELATIVE, FB_ABSOLUTE = 0.01, 0.5
MB_RELATIVE, MB_ABSOLUTE = 0.01, 0.002
# Lightness (0-100) difference after warping at which a match stops being trusted. Film grain
# at the working resolution stays well below it; a different object does not.
PHOTO_TOLERANCE = 6.0


@dataclass
class PairFlow:
    """Flow between frames t and t+1 at the working resolution, with per-pixel trust in [0, 1].

    ``trust_fw`` is defined on frame t's pixels (sampling t+1 along ``fw``), ``trust_bw`` on
    frame t+1's pixels (sampling t along ``bw``). NumPy arrays, or torch tensors of the same
    shapes where the trust was judged on a device (``flow_torch``).
    """

    fw: np.ndarray
    bw: np.ndarray
    trust_fw: np.ndarray
    trust_bw: np.ndarray
    valid: np.ndarray | None  # Lai et al.'s hard non-occlusion mask on frame t's pixels, for E_warp (NumPy only)
    trust: float  # the share of the picture the flow explains (both directions)


def work_shape(height: int, width: int, size: int = FLOW_SIZE) -> tuple[int, int]:
    """(h, w) of the working resolution: the long side at most ``size``, aspect kept."""
    scale = min(1.0, size / max(height, width))
    return max(8, round(height * scale)), max(8, round(width * scale))


def work_lightness(L: np.ndarray, size: int = FLOW_SIZE) -> np.ndarray:
    """Full-resolution L (0-100, float32) -> working-resolution L, area-averaged (grain-free)."""
    h, w = work_shape(*L.shape, size)
    if (h, w) == L.shape:
        return np.ascontiguousarray(L, dtype=np.float32)
    return cv2.resize(L.astype(np.float32, copy=False), (w, h), interpolation=cv2.INTER_AREA)


def dis_preset(preset: str, shape: tuple[int, int]) -> str:
    """The DIS preset for working images of ``shape`` when ``preset`` is asked for."""
    return "medium" if preset == "fast" and max(shape) < FAST_FROM else preset


@dataclass
class Flows:
    """DIS's flows both ways between two frames' lightness, before they are judged (``judge``)."""

    fw: np.ndarray
    bw: np.ndarray
    L0: np.ndarray
    L1: np.ndarray
    L0m: np.ndarray  # L0 at L1's levels
    L1m: np.ndarray  # L1 at L0's levels


class FlowEstimator:
    """DIS optical flow in both directions between two working-resolution lightness images."""

    def __init__(self, preset: str = "medium"):
        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
                   "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        self._dis = cv2.DISOpticalFlow_create(presets[preset])

    def pair(self, L0: np.ndarray, L1: np.ndarray) -> PairFlow:
        return judge(self.both_ways(L0, L1))

    def both_ways(self, L0: np.ndarray, L1: np.ndarray) -> Flows:
        # Global gain and offset first: a fade or the flicker of old film is neither motion
        # (DIS assumes constant brightness) nor a mismatch.
        L1m, L0m = match_levels(L1, L0), match_levels(L0, L1)
        a, b = _as_u8(L0), _as_u8(L1m)
        return Flows(self._dis.calc(a, b, None), self._dis.calc(b, a, None), L0, L1, L0m, L1m)


def judge(f: Flows) -> PairFlow:
    """How far to trust the flows, pixel by pixel (Sundaram et al.'s tests and the lightness found)."""
    at_fw, at_bw = positions(f.fw), positions(f.bw)
    tests_fw, tests_bw = occlusion_tests(f.fw, f.bw, at_fw), occlusion_tests(f.bw, f.fw, at_bw)
    trust_fw, trust_bw = trust(at_fw, f.L0, f.L1m, tests_fw), trust(at_bw, f.L1, f.L0m, tests_bw)
    return PairFlow(f.fw, f.bw, trust_fw, trust_bw, valid_mask(tests_fw),
                    0.5 * float(trust_fw.mean() + trust_bw.mean()))


def _as_u8(L: np.ndarray) -> np.ndarray:
    return np.clip(L * 2.55 + 0.5, 0, 255).astype(np.uint8)


def match_levels(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``src`` with the mean and contrast of ``ref``."""
    s_mean, s_std = float(src.mean()), float(src.std())
    r_mean, r_std = float(ref.mean()), float(ref.std())
    gain = r_std / s_std if s_std > 1e-3 else 1.0
    return (src - s_mean) * np.float32(gain) + np.float32(r_mean)


@lru_cache(maxsize=8)
def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) of an h x w picture; shared and read-only."""
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy


def positions(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """remap's two maps for sampling along ``flow``: (x + flow_x, y + flow_y) at each pixel."""
    gx, gy = grid(*flow.shape[:2])
    return gx + flow[..., 0], gy + flow[..., 1]


def sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``img`` at the positions (x, y), bilinear; borders replicated (callers mask them)."""
    return cv2.remap(img, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def at_size(flow: np.ndarray, weight: np.ndarray, h: int, w: int):
    """remap's maps for sampling along ``flow`` (at the working resolution) and ``weight``, at h x w:
    the chroma's resolution, which may be another (a model's square grid)."""
    fh, fw = flow.shape[:2]
    if (fh, fw) == (h, w):
        return *positions(flow), weight
    gx, gy = grid(h, w)
    flow_x, flow_y = cv2.split(cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR))
    weight = cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.scaleAdd(flow_x, w / fw, gx), cv2.scaleAdd(flow_y, h / fh, gy), weight


def landed(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where the positions (x, y) lie inside their picture."""
    h, w = x.shape
    return (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``img`` at x + flow(x)."""
    return sample(img, *positions(flow))


def _squared(v: np.ndarray) -> np.ndarray:
    return v[..., 0] ** 2 + v[..., 1] ** 2


def fb_error(fw: np.ndarray, bw: np.ndarray, at) -> tuple[np.ndarray, np.ndarray]:
    """Forward-backward error and its tolerance (Sundaram et al.), on the pixels of ``fw``'s frame
    (``at``: ``positions(fw)``)."""
    bw_at = sample(bw, *at)
    error = _squared(fw + bw_at)
    return error, FB_RELATIVE * (_squared(fw) + _squared(bw_at)) + FB_ABSOLUTE


def motion_boundary(fw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared flow gradient and its tolerance: large where the flow tears apart."""
    du = np.zeros_like(fw)
    dv = np.zeros_like(fw)
    du[:, :-1] = fw[:, 1:] - fw[:, :-1]
    dv[:-1] = fw[1:] - fw[:-1]
    return _squared(du) + _squared(dv), MB_RELATIVE * _squared(fw) + MB_ABSOLUTE


def occlusion_tests(fw: np.ndarray, bw: np.ndarray, at) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On ``fw``'s frame (``at``: ``positions(fw)``): forward-backward error and motion-boundary
    strength, each relative to its tolerance (at most 1 passes), and whether the flow lands
    inside the picture."""
    fb, fb_tol = fb_error(fw, bw, at)
    mb, mb_tol = motion_boundary(fw)
    return fb / fb_tol, mb / mb_tol, landed(*at)


def valid_mask(tests) -> np.ndarray:
    """Lai et al.'s hard non-occlusion mask for E_warp: consistent, not on a motion boundary, inside."""
    fb, mb, within = tests
    return (fb <= 1) & (mb <= 1) & within


def _ramp(relative: np.ndarray) -> np.ndarray:
    """1 up to the tolerance, falling linearly to 0 at twice it: no hard edges in the blend."""
    return np.clip(2.0 - relative, 0.0, 1.0).astype(np.float32)


def trust(at, L0: np.ndarray, L1: np.ndarray, tests) -> np.ndarray:
    """Soft trust in [0, 1] for sampling frame 1 at ``at`` (``positions(fw)``) on frame 0's pixels.

    Combines the occlusion ``tests`` (forward-backward, motion boundaries, inside) with the
    lightness found there compared with frame 0's own (``L1`` already level-matched to ``L0``).
    """
    fb, mb, within = tests
    photo = cv2.blur(np.abs(L0 - sample(L1, *at)), (3, 3))
    return _ramp(fb) * _ramp(mb) * _ramp(photo / PHOTO_TOLERANCE) * within
