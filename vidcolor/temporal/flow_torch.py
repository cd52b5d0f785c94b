"""The flow's sampling, and its judgement (``flow.judge``: how far to trust it), in torch on a device.

On a GPU the CPU sets the pace (issue 22). Of the smoother's flow, DIS itself stays on CPU threads,
but judging it (forward-backward consistency, motion boundaries, the lightness found along it:
some forty array passes a frame pair) costs the CPU as much again, and almost nothing here. The
flows and lightness go up once; the trust maps stay on the device for the blends
(``smoother_torch``), and only the share of the picture trusted (a number, for the cut test)
comes back.

The arithmetic is ``flow``'s: ``grid_sample`` with ``align_corners=True`` and border padding is
``cv2.remap`` with replicated borders on pixel centres (``cv2.remap`` rounds positions to 1/32
pixel, so the two differ in the last decimals); ``cv2.blur``'s border is reflect-101, as
``F.pad``'s ``reflect``. With ``device='cpu'`` this runs in torch on the CPU, so the two can be
compared on any machine.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ..threads import own_stream, shared
from .flow import FB_ABSOLUTE, FB_RELATIVE, MB_ABSOLUTE, MB_RELATIVE, PHOTO_TOLERANCE, Flows, PairFlow

@torch.inference_mode()
def judge(f: Flows, device: torch.device) -> PairFlow:
    """As ``flow.judge``, the maps left on ``device`` (fw and bw (h, w, 2), trust (h, w)); no
    ``valid`` mask (the metrics judge on the CPU). Waits for its own work alone."""
    with own_stream(device):
        def up(array):
            return torch.from_numpy(np.ascontiguousarray(array, np.float32)).to(device)

        fw, bw = up(f.fw).permute(2, 0, 1), up(f.bw).permute(2, 0, 1)
        at_fw, at_bw = positions(fw), positions(bw)
        trust_fw = _trust(fw, bw, at_fw, up(f.L0), up(f.L1m))
        trust_bw = _trust(bw, fw, at_bw, up(f.L1), up(f.L0m))
        share = 0.5 * float(trust_fw.mean() + trust_bw.mean())
    return PairFlow(fw.permute(1, 2, 0), bw.permute(1, 2, 0), trust_fw, trust_bw, None, share)


def _squared(v: torch.Tensor) -> torch.Tensor:
    """x * x + y * y of a (2, h, w) field, in two calls, not seven."""
    return v.square().sum(0)


def _ramp(relative: torch.Tensor) -> torch.Tensor:
    """As ``flow._ramp``: 1 up to the tolerance, falling linearly to 0 at twice it."""
    return (2.0 - relative).clamp_(0.0, 1.0)


def _trust(fw, bw, at, L0, L1):
    """As ``flow.occlusion_tests`` and ``flow.trust``, on ``fw``'s frame (``at``: ``positions(fw)``)."""
    bw_at = sample(bw, at)
    fw2 = _squared(fw)
    fb = _squared(fw + bw_at) / (FB_RELATIVE * (fw2 + _squared(bw_at)) + FB_ABSOLUTE)
    du, dv = torch.zeros_like(fw), torch.zeros_like(fw)
    du[:, :, :-1] = fw[:, :, 1:] - fw[:, :, :-1]
    dv[:, :-1] = fw[:, 1:] - fw[:, :-1]
    mb = (_squared(du) + _squared(dv)) / (MB_RELATIVE * fw2 + MB_ABSOLUTE)
    found = (L0 - sample(L1[None], at)[0]).abs()
    photo = F.avg_pool2d(F.pad(found[None, None], (1, 1, 1, 1), mode="reflect"), 3, stride=1)[0, 0]
    return _ramp(fb) * _ramp(mb) * _ramp(photo / PHOTO_TOLERANCE) * landed(at)


@lru_cache(maxsize=16)
def grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    """Pixel coordinates (2, h, w): x then y."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                            torch.arange(w, dtype=torch.float32, device=device), indexing="ij")
    return shared(torch.stack([xs, ys]))


@lru_cache(maxsize=16)
def _bounds(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(2 / (size - 1), size - 1) of x and y, each (2, 1, 1)."""
    scale = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], dtype=torch.float32, device=device)
    last = torch.tensor([w - 1, h - 1], dtype=torch.float32, device=device)
    return shared(scale.view(2, 1, 1)), shared(last.view(2, 1, 1))


def positions(flow: torch.Tensor) -> torch.Tensor:
    """(x + flow_x, y + flow_y) at each pixel, (2, h, w)."""
    return grid(*flow.shape[1:], flow.device) + flow


def sample(img: torch.Tensor, at: torch.Tensor) -> torch.Tensor:
    """``img`` (C, h, w), or a batch (N, C, h, w), at the pixel positions ``at`` ((2, h, w), or (N, 2, h, w))
    of a picture of its size: bilinear, borders replicated (callers mask them), as ``flow.sample``."""
    if img.dim() == 3:
        return sample(img[None], at[None])[0]
    scale, _ = _bounds(*img.shape[-2:], at.device)
    return F.grid_sample(img, (at * scale - 1.0).permute(0, 2, 3, 1), mode="bilinear", padding_mode="border",
                         align_corners=True)


def landed(at: torch.Tensor) -> torch.Tensor:
    """1 where the positions ``at`` (2, h, w) lie inside their picture, else 0."""
    _, last = _bounds(*at.shape[1:], at.device)
    return ((at >= 0) & (at <= last)).all(0).float()
