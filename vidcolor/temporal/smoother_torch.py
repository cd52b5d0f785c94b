"""The smoother's per-frame blend (``smoother._blend`` and ``_chain``) in torch, on the network's device.

On a GPU the CPU sets the pace (issue 22): warping each frame's neighbours along the chained flow,
and their trust maps, costs the CPU milliseconds a frame in OpenCV and almost nothing on the
device. The flow itself stays DIS on CPU threads (``flow.FlowEstimator``): its maps go up once
a frame pair, each frame's ab once, and each smoothed ab comes back once.

The arithmetic is the OpenCV path's: bilinear sampling with replicated borders (``grid_sample``
with ``align_corners=True`` and ``padding_mode='border'`` is ``cv2.remap`` on pixel centres), the
flow resized as ``cv2.resize`` resizes it (half-pixel centres). ``cv2.remap`` rounds positions to
1/32 pixel, so the two differ by hundredths of an ab unit (``tests/test_temporal.py`` holds them
within 0.5 on a real film). With ``device='cpu'`` this runs in torch on the CPU, so the two can be
compared on any machine.
"""
from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .smoother import MAX_CHROMA_GAIN


class Held(NamedTuple):
    """A frame as the blend reads it: its ab (2, h, w), and the flow from the frame before it
    ((2, fh, fw) and its trust (fh, fw)) in each direction, or None where a shot starts."""

    ab: object
    forward: tuple | None
    backward: tuple | None


class DeviceBlend:
    """``hold`` each frame once, in order; ``blend`` from any thread. One CUDA stream for all of
    it, so what a blend reads was uploaded before it, and it runs beside the network's batches."""

    def __init__(self, device: torch.device | str):
        self.device = torch.device(device)
        self._stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None

    def _on_stream(self):
        return torch.cuda.stream(self._stream) if self._stream is not None else contextlib.nullcontext()

    @torch.inference_mode()
    def hold(self, ab: np.ndarray, pair) -> Held:
        with self._on_stream():
            up = self._up
            if pair is None:
                return Held(up(ab).permute(2, 0, 1), None, None)
            return Held(up(ab).permute(2, 0, 1), (up(pair.fw).permute(2, 0, 1), up(pair.trust_fw)),
                        (up(pair.bw).permute(2, 0, 1), up(pair.trust_bw)))

    def _up(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, np.float32)).to(self.device)

    @torch.inference_mode()
    def blend(self, own: torch.Tensor, sides: list[list[tuple]], weights: list[float],
              preserve_chroma: bool) -> np.ndarray:
        """As ``smoother._blend``: frame t's ab averaged with its neighbours' warped onto it."""
        with self._on_stream():
            _, h, w = own.shape
            ab = own.clone()
            den = torch.ones((h, w), device=self.device)
            mag = torch.hypot(own[0], own[1])
            for side in sides:
                flow = trust = None
                for k, (far, step_flow, step_trust) in enumerate(side, 1):
                    flow, trust = _chain(flow, trust, step_flow, step_trust)
                    at, weight = _at_size(flow, trust * weights[k], h, w)
                    warped = _sample(far, at)
                    ab.addcmul_(warped, weight)
                    den += weight
                    mag.addcmul_(torch.hypot(warped[0], warped[1]), weight)
            ab /= den
            if preserve_chroma:
                gain = (mag / den / torch.hypot(ab[0], ab[1]).clamp_(min=1e-6)).clamp_(1.0, MAX_CHROMA_GAIN)
                ab *= gain
            return ab.permute(1, 2, 0).cpu().numpy().copy()


@lru_cache(maxsize=16)
def _grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    """Pixel coordinates (2, h, w): x then y."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                            torch.arange(w, dtype=torch.float32, device=device), indexing="ij")
    return torch.stack([xs, ys])


def _positions(flow: torch.Tensor) -> torch.Tensor:
    """(x + flow_x, y + flow_y) at each pixel, (2, h, w)."""
    return _grid(*flow.shape[1:], flow.device) + flow


def _sample(img: torch.Tensor, at: torch.Tensor) -> torch.Tensor:
    """``img`` (C, h, w) at the pixel positions ``at`` (2, h, w) of a picture of its size: bilinear,
    borders replicated (callers mask them), as ``flow.sample``."""
    h, w = img.shape[1:]
    scale = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=at.device).view(2, 1, 1)
    grid = (at * scale - 1.0).permute(1, 2, 0)[None]
    return F.grid_sample(img[None], grid, mode="bilinear", padding_mode="border", align_corners=True)[0]


def _landed(at: torch.Tensor) -> torch.Tensor:
    h, w = at.shape[1:]
    x, y = at[0], at[1]
    return ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).float()


def _chain(flow, trust, step_flow, step_trust):
    """As ``smoother._chain``: the flow from frame t to the chain's end, one step further."""
    if flow is None:
        return step_flow, step_trust
    at = _positions(flow)
    chained = _sample(step_flow, at) + flow
    chained_trust = _sample(step_trust[None], at)[0] * trust * _landed(at)
    return chained, chained_trust


def _at_size(flow: torch.Tensor, weight: torch.Tensor, h: int, w: int):
    """As ``flow.at_size``: positions along ``flow`` and ``weight`` at the chroma's h x w."""
    fh, fw = flow.shape[1:]
    if (fh, fw) == (h, w):
        return _positions(flow), weight
    flow = F.interpolate(flow[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    flow = flow * torch.tensor([w / fw, h / fh], device=flow.device).view(2, 1, 1)
    weight = F.interpolate(weight[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    return _grid(h, w, flow.device) + flow, weight
