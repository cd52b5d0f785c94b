"""The smoother's per-frame blend (``smoother._blend`` and ``_chain``) in torch, on the network's device.

On a GPU the CPU sets the pace (issue 22): warping each frame's neighbours along the chained flow,
and their trust maps, costs the CPU milliseconds a frame in OpenCV and almost nothing on the
device. The flow itself stays DIS on CPU threads (``flow.FlowEstimator``): its maps go up once
a frame pair and are judged there (``flow_torch``), each frame's ab goes up once, and each
smoothed ab comes back once.

The arithmetic is the OpenCV path's: bilinear sampling with replicated borders (``grid_sample``
with ``align_corners=True`` and ``padding_mode='border'`` is ``cv2.remap`` on pixel centres), the
flow resized as ``cv2.resize`` resizes it (half-pixel centres). ``cv2.remap`` rounds positions to
1/32 pixel, so the two differ by hundredths of an ab unit (``tests/test_temporal.py`` holds them
within 0.5 on a real film). With ``device='cpu'`` this runs in torch on the CPU, so the two can be
compared on any machine.
"""
from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .flow_torch import grid, landed, positions, sample


class Held(NamedTuple):
    """A frame as the blend reads it: its ab (2, h, w), and the flow from the frame before it
    ((2, fh, fw) and its trust (fh, fw)) in each direction, or None where a shot starts."""

    ab: object
    forward: tuple | None
    backward: tuple | None


class DeviceBlend:
    """``hold`` each frame once, in order; ``blend`` from any thread. One CUDA stream for all of
    it, so what a blend reads was uploaded before it, and it runs beside the network's batches."""

    def __init__(self, device: torch.device | str, max_gain: float):
        """``max_gain``: how far a blend may restore the chroma it averaged away (the smoother's)."""
        self.device = torch.device(device)
        self.max_gain = max_gain
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

    def _up(self, x) -> torch.Tensor:
        if isinstance(x, torch.Tensor):  # judged on the device (flow_torch), on a stream of its own
            if self._stream is not None:
                x.record_stream(self._stream)
            return x
        return torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(self.device)

    @torch.inference_mode()
    def blend(self, own: torch.Tensor, sides: list[list[tuple]], weights: list[float],
              preserve_chroma: bool) -> np.ndarray:
        """As ``smoother._blend``: frame t's ab averaged with its neighbours' warped onto it."""
        with self._on_stream():
            _, h, w = own.shape
            fars, flows, trusts = [], [], []
            for side in sides:
                flow = trust = None
                for k, (far, step_flow, step_trust) in enumerate(side, 1):
                    flow, trust = _chain(flow, trust, step_flow, step_trust)
                    fars.append(far)
                    flows.append(flow)
                    trusts.append(trust * weights[k])
            # Every neighbour resized, warped and weighed at once: a few kernels a frame, not a few a
            # neighbour (on a GPU each costs the CPU its launch).
            at, weight = _at_size(torch.stack(flows), torch.stack(trusts), h, w)
            warped = sample(torch.stack(fars), at)
            ab = own + (warped * weight[:, None]).sum(0)
            den = weight.sum(0) + 1.0
            mag = torch.hypot(own[0], own[1]) + (torch.hypot(warped[:, 0], warped[:, 1]) * weight).sum(0)
            ab /= den
            if preserve_chroma:
                gain = (mag / den / torch.hypot(ab[0], ab[1]).clamp_(min=1e-6)).clamp_(1.0, self.max_gain)
                ab *= gain
            return ab.permute(1, 2, 0).cpu().numpy().copy()


def _chain(flow, trust, step_flow, step_trust):
    """As ``smoother._chain``: the flow from frame t to the chain's end, one step further."""
    if flow is None:
        return step_flow, step_trust
    at = positions(flow)
    moved = sample(torch.cat((step_flow, step_trust[None])), at)  # flow and trust in one pass
    return moved[:2] + flow, moved[2] * trust * landed(at)


def _at_size(flows: torch.Tensor, weights: torch.Tensor, h: int, w: int):
    """As ``flow.at_size``, for a batch: positions along ``flows`` (N, 2, fh, fw) and ``weights``
    (N, fh, fw) at the chroma's h x w."""
    fh, fw = flows.shape[-2:]
    if (fh, fw) != (h, w):
        flows = F.interpolate(flows, size=(h, w), mode="bilinear", align_corners=False)
        flows = torch.stack((flows[:, 0] * (w / fw), flows[:, 1] * (h / fh)), dim=1)
        weights = F.interpolate(weights[:, None], size=(h, w), mode="bilinear", align_corners=False)[:, 0]
    return grid(h, w, flows.device) + flows, weights
