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

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .lab import bands
from .threads import own_stream, shared

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

    @torch.inference_mode()
    def prepare(self, frame: np.ndarray, order: str = "rgb") -> tuple[np.ndarray, np.ndarray]:
        """uint8 (H, W, 3) -> (lightness (H, W) float32, network input (3, S, S) float32), as ``lab``."""
        with own_stream(self.device):
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
        with own_stream(self.device):
            L_t, up = self._upsampled(L, ab)
            out = torch.empty((3, *L.shape), dtype=torch.uint8, device=self.device)
            for band in bands(*L.shape, BAND_PIXELS):
                rgb = lab_to_rgb(L_t[band], up[0, band], up[1, band])
                out[:, band] = (rgb * 255.0).round_().to(torch.uint8)  # half to even, as OpenCV
            return _planes(out, order, back=True).contiguous().cpu().numpy()

    @torch.inference_mode()
    def finish_yuv(self, L: np.ndarray, ab: np.ndarray, layout) -> list[np.ndarray]:
        """As ``finish``, but straight to the encoder's planes (``media.pixels.YuvLayout``: Y, Cb, Cr),
        so the frame crosses to the host once, in its final format, and the CPU converts nothing.
        From RGB in floats: no rounding to 8 bits on the way to a 10-bit output."""
        with own_stream(self.device):
            L_t, up = self._upsampled(L, ab)
            h, w = L.shape
            sy = layout.sub_y
            dtype = torch.uint8 if layout.bits == 8 else torch.int16  # 10-16 bits: read back as uint16
            planes = [torch.empty(size, dtype=dtype, device=self.device)
                      for size in ((h, w), (h // sy, w // layout.sub_x), (h // sy, w // layout.sub_x))]
            rows = max(sy, BAND_PIXELS // w // sy * sy)
            for top in range(0, h, rows):
                end = min(h, top + rows)
                # The chroma filter reads a row beyond the band on each side where there is one.
                first, last = max(0, top - (sy - 1)), min(h, end + (sy - 1))
                rgb = lab_to_rgb(L_t[first:last], up[0, first:last], up[1, first:last])
                y, cb, cr = to_yuv(rgb, layout, (top - first, last - end))
                planes[0][top:end] = y[top - first:end - first].to(dtype)
                planes[1][top // sy:end // sy] = cb.to(dtype)
                planes[2][top // sy:end // sy] = cr.to(dtype)
            return [p.cpu().numpy().view(np.uint16) if layout.bits > 8 else p.cpu().numpy() for p in planes]

    def _upsampled(self, L: np.ndarray, ab: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The lightness and the ab upsampled to its size, on the device."""
        L_t = torch.from_numpy(np.ascontiguousarray(L, np.float32)).to(self.device)
        grid = torch.from_numpy(np.ascontiguousarray(ab, np.float32)).to(self.device).permute(2, 0, 1)[None]
        return L_t, F.interpolate(grid, size=L.shape, mode=self.upsample)[0]  # bilinear: half-pixel centres


def to_yuv(rgb: torch.Tensor, layout, beyond: tuple[int, int] = (0, 0)) -> tuple[torch.Tensor, ...]:
    """Float RGB (3, h, w) in [0, 1] -> Y', Cb, Cr code values of ``layout``, rounded and clipped.

    Subsampled chroma is filtered as swscale's default (bilinear) scaler does at half size, [1 3 3 1] / 8
    along each halved axis, edges replicated. ``beyond``: the rows of ``rgb`` above and below the
    band to convert, there for the filter only (1 each where the picture goes on, with 4:2:0)."""
    kr, kb = layout.kr, layout.kb
    y = kr * rgb[0] + (1.0 - kr - kb) * rgb[1] + kb * rgb[2]
    chroma = torch.stack([(rgb[2] - y) / (2.0 * (1.0 - kb)), (rgb[0] - y) / (2.0 * (1.0 - kr))])
    if layout.sub_x > 1 or layout.sub_y > 1:
        chroma = _half(chroma, layout.sub_x > 1, layout.sub_y > 1, beyond)
    top, mid = float((1 << layout.bits) - 1), float(1 << (layout.bits - 1))
    if layout.full_range:
        y, chroma = y * top, chroma * top + mid
    else:
        scale = float(1 << (layout.bits - 8))
        y, chroma = (16.0 + 219.0 * y) * scale, (128.0 + 224.0 * chroma) * scale
    y, chroma = y.round_().clamp_(0.0, top), chroma.round_().clamp_(0.0, top)
    return y, chroma[0], chroma[1]


@lru_cache(maxsize=8)
def _taps(device: torch.device) -> torch.Tensor:
    """swscale's [1 3 3 1] / 8."""
    return shared(torch.tensor((1.0, 3.0, 3.0, 1.0), device=device) / 8.0)


def _half(planes: torch.Tensor, across: bool, down: bool, beyond: tuple[int, int]) -> torch.Tensor:
    """(C, h, w) -> halved across and/or down with [1 3 3 1] / 8; the rows ``beyond`` the band are read
    by the filter, and replicated where the picture has none."""
    taps = _taps(planes.device)
    x = planes[:, None]
    if across:
        x = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="replicate"), taps.view(1, 1, 1, 4), stride=(1, 2))
    if down:
        above, below = beyond
        x = F.conv2d(F.pad(x, (0, 0, 1 - above, 1 - below), mode="replicate"), taps.view(1, 1, 4, 1), stride=(2, 1))
    return x[:, 0]


def _planes(t: torch.Tensor, order: str, back: bool = False) -> torch.Tensor:
    """(H, W, 3) in ``order`` -> (3, H, W) RGB; with ``back``, (3, H, W) RGB -> (H, W, 3) in ``order``."""
    if back:
        t = t.permute(1, 2, 0)
        return t.flip(2) if order == "bgr" else t
    t = t.permute(2, 0, 1)
    return t.flip(0) if order == "bgr" else t
