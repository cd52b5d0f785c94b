"""The Lab steps of ``lab`` in torch, to run on the network's device (a GPU) beside it.

On a GPU the CPU sets the pace (README, "Speed"): making a 1080p frame's lightness and network
input, and composing its colors back, costs the CPU tens of milliseconds a frame in OpenCV, and
almost nothing here, where the CPU only copies bytes.

The formulas are the CIE ones with OpenCV's constants (sRGB, D65 white, its thresholds). Lab to
RGB is OpenCV's arithmetic and gives the same bytes (but for a rare rounding tie: one level, on
about 0.02% of pixels). RGB to Lab is exact here, while OpenCV's float conversion interpolates a
3-D table: its lightness is off by up to 0.2 (of 100), so the network's input differs by < 0.002
and a colorized pixel by a level or so. A gray frame comes back with its own pixel values both
ways. Parity mode keeps the OpenCV path, the official
pipeline's bit for bit.

Each thread that calls in gets its own CUDA stream, so this work runs beside the network's
batches instead of queueing behind them on the default stream.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np
import torch
import torch.nn.functional as F

from .lab import bands

# OpenCV's sRGB <-> XYZ (D65) matrices and white point (imgproc/src/color_lab.cpp).
_RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_XYZ_TO_RGB = ((3.240479, -1.53715, -0.498535), (-0.969256, 1.875991, 0.041556), (0.055648, -0.204043, 1.057311))
_WHITE = (0.950456, 1.0, 1.088754)
_T = 0.008856  # CIE's epsilon, as OpenCV writes it
_K = 903.3
_F0 = 16.0 / 116.0
# A band of rows at a time on the device too, for the same reason as ``lab.BAND_PIXELS``: the
# float intermediates of one 8K frame would take gigabytes. Larger bands, as kernels are cheap.
BAND_PIXELS = 1 << 22


def _to_linear(c: torch.Tensor) -> torch.Tensor:
    return torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _to_srgb(c: torch.Tensor) -> torch.Tensor:
    return torch.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _mix(matrix, channels) -> list[torch.Tensor]:
    return [row[0] * channels[0] + row[1] * channels[1] + row[2] * channels[2] for row in matrix]


def lightness(rgb: torch.Tensor) -> torch.Tensor:
    """Lab L in [0, 100] of float RGB (3, H, W) in [0, 1] (sRGB): (H, W)."""
    (y,) = _mix(_RGB_TO_XYZ[1:2], _to_linear(rgb))
    return torch.where(y > _T, 116.0 * y.clamp(min=_T) ** (1 / 3) - 16.0, _K * y)


def lab_to_rgb(L: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Lab (each (H, W)) -> float RGB (3, H, W), clipped to [0, 1] before the sRGB curve, as OpenCV."""
    low = L <= _T * _K
    f = (L + 16.0) / 116.0
    y = torch.where(low, L / _K, f ** 3)
    fy = torch.where(low, 7.787 * y + _F0, f)
    f_thresh = 7.787 * _T + _F0
    x, z = (torch.where(t <= f_thresh, (t - _F0) / 7.787, t ** 3) for t in (a / 500.0 + fy, fy - b / 200.0))
    xyz = (x * _WHITE[0], y, z * _WHITE[2])
    return _to_srgb(torch.stack(_mix(_XYZ_TO_RGB, xyz)).clamp(0.0, 1.0))


class DeviceLab:
    """``lab``'s per-frame steps (``Colorizer.prepare`` and ``finish``) on ``device``.

    ``size``: the network's input size; ``upsample``: the chroma upsampling mode (``lab``'s).
    Frames come and go as NumPy arrays on the host; any thread may call in.
    """

    def __init__(self, device: torch.device, size: int, upsample: str):
        self.device, self.size, self.upsample = device, size, upsample
        self._local = threading.local()

    def _stream(self):
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        if not hasattr(self._local, "stream"):
            self._local.stream = torch.cuda.Stream(self.device)
        return torch.cuda.stream(self._local.stream)

    @torch.inference_mode()
    def prepare(self, frame: np.ndarray, order: str = "rgb") -> tuple[np.ndarray, np.ndarray]:
        """uint8 (H, W, 3) -> (lightness (H, W) float32, network input (3, S, S) float32), as ``lab``."""
        with self._stream():
            rgb = _planes(torch.from_numpy(np.ascontiguousarray(frame)).to(self.device), order).float() / 255.0
            L = torch.empty(rgb.shape[1:], device=self.device)
            for band in bands(*L.shape, BAND_PIXELS):
                L[band] = lightness(rgb[:, band])
            small = F.interpolate(rgb[None], size=(self.size, self.size), mode="bilinear", align_corners=False)[0]
            small_L = lightness(small)
            gray = lab_to_rgb(small_L, torch.zeros_like(small_L), torch.zeros_like(small_L))
            # The input goes back to the host too (3 MB at 512): batches are put together there and go
            # up in pinned memory, so no tensor crosses streams. .cpu() waits for this stream alone.
            return L.cpu().numpy(), gray.cpu().numpy()

    @torch.inference_mode()
    def finish(self, L: np.ndarray, ab: np.ndarray, order: str = "rgb") -> np.ndarray:
        """Lightness (H, W) and ab on the model's grid (S, S, 2) -> uint8 (H, W, 3), as ``lab``."""
        with self._stream():
            L_t = torch.from_numpy(np.ascontiguousarray(L, np.float32)).to(self.device)
            grid = torch.from_numpy(np.ascontiguousarray(ab, np.float32)).to(self.device).permute(2, 0, 1)[None]
            up = F.interpolate(grid, size=L.shape, mode=self.upsample)[0]  # bilinear: half-pixel centres
            out = torch.empty((3, *L.shape), dtype=torch.uint8, device=self.device)
            for band in bands(*L.shape, BAND_PIXELS):
                rgb = lab_to_rgb(L_t[band], up[0, band], up[1, band])
                out[:, band] = (rgb * 255.0).round_().to(torch.uint8)  # half to even, as OpenCV
            return _planes(out, order, back=True).contiguous().cpu().numpy()


def _planes(t: torch.Tensor, order: str, back: bool = False) -> torch.Tensor:
    """(H, W, 3) in ``order`` -> (3, H, W) RGB; with ``back``, (3, H, W) RGB -> (H, W, 3) in ``order``."""
    if back:
        t = t.permute(1, 2, 0)
        return t.flip(2) if order == "bgr" else t
    t = t.permute(2, 0, 1)
    return t.flip(0) if order == "bgr" else t
