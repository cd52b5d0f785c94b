"""The pre- and post-processing of DDColor's inference contract, in OpenCV float Lab.

Every function follows the official ``ColorizationPipeline`` step by step (see README,
"Parity"): only the chroma upsampling mode is a choice, and parity mode picks the official one.
Frames are 8-bit (or 16-bit: scans), in RGB or BGR order (``order``); only their lightness is
used, and a 16-bit frame keeps its depth in its colorized version.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

_TO_LAB = {"rgb": cv2.COLOR_RGB2Lab, "bgr": cv2.COLOR_BGR2Lab}
_FROM_LAB = {"rgb": cv2.COLOR_Lab2RGB, "bgr": cv2.COLOR_Lab2BGR}
# The official pipeline upsamples ab with F.interpolate's default: legacy nearest (blocky).
PARITY_UPSAMPLE = "nearest"
DEFAULT_UPSAMPLE = "bilinear"
# Per-pixel conversions run a band of rows at a time: the float intermediates stay in the cache
# and never take a whole frame (12 bytes a pixel: 400 MB at 8K). The results are the same.
BAND_PIXELS = 1 << 18


def bands(height: int, width: int, pixels: int = BAND_PIXELS):
    """Row slices of about ``pixels`` pixels each, covering a frame."""
    rows = max(1, pixels // width)
    return (slice(top, top + rows) for top in range(0, height, rows))


def to_float(frame: np.ndarray) -> np.ndarray:
    """uint8 (or uint16) HxWx3 -> float32 in [0, 1] (float32 division is exact-rounded, like the
    official /255.0)."""
    return frame.astype(np.float32) / np.float32(65535.0 if frame.dtype == np.uint16 else 255.0)


def lightness(img: np.ndarray, order: str = "rgb") -> np.ndarray:
    """Lab L in [0, 100] of a float32 HxWx3 image in [0, 1], in its own array (a view of a Lab
    image would keep all three channels alive while the frame waits in the queues)."""
    L = np.empty(img.shape[:2], np.float32)
    for band in bands(*L.shape):
        cv2.extractChannel(cv2.cvtColor(img[band], _TO_LAB[order]), 0, dst=L[band])
    return L


def split(frame_u8: np.ndarray, order: str = "rgb") -> tuple[np.ndarray, np.ndarray]:
    """uint8 HxWx3 -> (L (H, W) in [0, 100], ab (H, W, 2)), float32 Lab."""
    lab = cv2.cvtColor(to_float(frame_u8), _TO_LAB[order])
    return cv2.extractChannel(lab, 0), np.ascontiguousarray(lab[:, :, 1:])


def model_input(img: np.ndarray, size: int, order: str = "rgb") -> np.ndarray:
    """The 3xSxS network input: the frame stretched to SxS, reduced to its lightness, back to RGB."""
    small = cv2.resize(img, (size, size))  # INTER_LINEAR, aspect not kept: the official input
    lab = cv2.cvtColor(small, _TO_LAB[order])
    lab[:, :, 1:] = 0
    # Lab -> RGB is required: the gray it gives differs from v/255 by up to half a level.
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB).transpose(2, 0, 1)


def upsample_ab(ab: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """(S, S, 2) ab on the model's grid -> (H, W, 2) float32 at frame size.

    "nearest" is torch's legacy nearest, as the official pipeline; "bilinear" is OpenCV's, the
    same half-pixel-centred interpolation as torch's (align_corners=False) at a fifth of the cost.
    """
    ab = np.ascontiguousarray(ab, np.float32)
    if mode == "bilinear":
        return cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)
    grid = torch.from_numpy(ab).permute(2, 0, 1)[None]
    up = F.interpolate(grid, size=(height, width), mode=mode)
    return up[0].permute(1, 2, 0).contiguous().numpy()


def compose(L: np.ndarray, ab: np.ndarray, order: str = "rgb", dtype=np.uint8) -> np.ndarray:
    """L (H, W) and ab (H, W, 2) -> uint8 (or uint16) image; OpenCV clips to [0, 1], then rounds
    half to even (as NumPy's round: the official ``(x * 255.0).round()``), not truncate."""
    out = np.empty((*L.shape, 3), dtype)
    for band in bands(*L.shape):
        lab = cv2.merge([L[band], ab[band, :, 0], ab[band, :, 1]])
        rgb = cv2.cvtColor(lab, _FROM_LAB[order])
        if dtype == np.uint16:
            np.rint(np.clip(rgb, 0.0, 1.0) * 65535.0, out=rgb)
            out[band] = rgb
        else:  # the float RGB is >= 0, so the absolute value changes nothing
            cv2.convertScaleAbs(rgb, dst=out[band], alpha=255.0)
    return out
