"""The smoother's flow on the device, measured against DIS on CPU threads (issue 22). Printed numbers.

Issue 22 asks whether the flow should leave the CPU too, by a method that needs no downloaded
weights. The candidate here is the GPU-friendly relative of DIS: dense pyramidal Lucas-Kanade in
torch (coarse to fine; at each level the second frame is warped along the flow so far and a
windowed 2x2 least-squares step solved at every pixel, with a little ridge so flat areas keep
the coarser level's motion; the flow smoothed between levels), both directions as one batch.

It is measured where the choice is made:
- colors: the smoother running on each flow over the real clips of ``temporal_quality.py``
  (E_warp, CDC, the ab error to the true colors; the report's own flow is DIS medium either way);
- cost: torch calls a frame pair (on a GPU each a launch the CPU pays for under the GIL, which
  DIS's threads do not hold), and milliseconds a pair on ``--device``, against DIS fast both ways
  on one CPU thread.

    python benchmarks/investigations/device_flow.py                   # CPU; the clips of ../shared/media
    python benchmarks/investigations/device_flow.py --device cuda --frames 48
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks/common.py
import temporal_quality as tq  # noqa: E402
from torch_calls import Calls  # noqa: E402

from vidcolor.temporal import motion  # noqa: E402
from vidcolor.temporal.flow import (FLOW_SIZE, FlowEstimator, Flows, PairFlow, dis_preset, judge,  # noqa: E402
                                    match_levels, work_lightness)
from vidcolor.temporal.flow_torch import grid, sample  # noqa: E402
from vidcolor.temporal.motion import COLOR_FLOW  # noqa: E402

COARSEST = 24  # pixels on the short side of the pyramid's top


class PyramidalLK:
    """Dense pyramidal Lucas-Kanade, both ways at once, in torch on ``device``: ``both_ways`` as
    ``FlowEstimator``'s (the maps come back as NumPy arrays, for the smoother's judgement)."""

    def __init__(self, device: torch.device, iterations: int = 4, radius: int = 5, ridge: float = 20.0):
        self.device, self.iterations, self.radius, self.ridge = device, iterations, radius, ridge

    def pair(self, L0: np.ndarray, L1: np.ndarray) -> PairFlow:
        return judge(self.both_ways(L0, L1))

    def both_ways(self, L0: np.ndarray, L1: np.ndarray) -> Flows:
        L1m, L0m = match_levels(L1, L0), match_levels(L0, L1)
        flow = self.flow(L0, L1m, L1, L0m)
        fw, bw = (np.ascontiguousarray(f.permute(1, 2, 0).cpu().numpy()) for f in flow)
        return Flows(fw, bw, L0, L1, L0m, L1m)

    @torch.inference_mode()
    def flow(self, L0, L1m, L1, L0m) -> torch.Tensor:
        """(2, 2, h, w): the flow from L0 to L1m and from L1 to L0m (x then y, pixels)."""
        up = torch.from_numpy(np.stack([L0, L1, L1m, L0m])).to(self.device)[:, None]
        pyramid = [up]
        while min(pyramid[-1].shape[-2:]) >= 2 * COARSEST:
            pyramid.append(F.avg_pool2d(pyramid[-1], 2, ceil_mode=True))
        flow = None
        for level in reversed(pyramid):
            frames, targets = level[:2], level[2:]  # each frame, and what it is looked for in
            h, w = level.shape[-2:]
            if flow is None:
                flow = level.new_zeros((2, 2, h, w))
            else:
                fh, fw = flow.shape[-2:]
                flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
                flow = torch.stack((flow[:, 0] * (w / fw), flow[:, 1] * (h / fh)), 1)
            flow = self._refine(frames, targets, flow)
        return flow

    def _refine(self, frames, targets, flow):
        h, w = frames.shape[-2:]
        gy, gx = torch.gradient(frames[:, 0], dim=(1, 2))
        g = torch.stack((gx, gy), 1)  # (2, 2, h, w)
        window = 2 * self.radius + 1

        def pooled(x):
            return F.avg_pool2d(x, window, stride=1, padding=self.radius, count_include_pad=False)

        xx, xy, yy = pooled(torch.stack((gx * gx, gx * gy, gy * gy), 1)).unbind(1)
        xx, yy = xx + self.ridge, yy + self.ridge
        det = xx * yy - xy * xy
        inverse = torch.stack((torch.stack((yy, -xy), 1), torch.stack((-xy, xx), 1)), 1) / det[:, None, None]
        for _ in range(self.iterations):
            moved = sample(targets, grid(h, w, flow.device) + flow)  # the smoother's sampling: cv2.remap's
            b = pooled(g * (frames - moved))
            flow = flow + (inverse * b[:, None]).sum(2)
        return _smoothed(flow)


def _smoothed(flow: torch.Tensor) -> torch.Tensor:
    """A 3x3 median of each flow component: outliers of the least squares gone, edges kept."""
    n, c, h, w = flow.shape
    patches = F.unfold(F.pad(flow.reshape(n * c, 1, h, w), (1, 1, 1, 1), mode="replicate"), 3)
    return patches.median(1).values.view(n, c, h, w)


def costs(lk: PyramidalLK, L0: np.ndarray, L1: np.ndarray, repeat: int) -> dict[str, float]:
    """Torch calls a pair, and milliseconds a pair: the device flow, DIS fast both ways on one thread."""
    lk.both_ways(L0, L1)
    with Calls() as calls:
        lk.both_ways(L0, L1)
    sync = torch.cuda.synchronize if lk.device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeat):
        lk.both_ways(L0, L1)
    sync()
    device_ms = 1000 * (time.perf_counter() - t0) / repeat
    dis = FlowEstimator(dis_preset(COLOR_FLOW, L0.shape))
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        t0 = time.process_time()
        for _ in range(repeat):
            dis.both_ways(L0, L1)
        dis_ms = 1000 * (time.process_time() - t0) / repeat
    finally:
        cv2.setNumThreads(threads)
    return {"torch_calls": calls.count, "device_ms": device_ms, "dis_ms": dis_ms}


def smoother_on(lk: PyramidalLK | None):
    """``motion.FlowEstimator`` for the smoother's preset: the device flow, or DIS (None)."""
    if lk is None:
        return FlowEstimator
    return lambda preset: lk if preset == COLOR_FLOW else FlowEstimator(preset)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--frames", type=int, help="frames per clip (default: temporal_quality.py's)")
    p.add_argument("--long-side", type=int, default=1280, help="frames downscaled to this long side")
    p.add_argument("--grid", type=int, default=512, help="the model grid the ab is smoothed on")
    p.add_argument("--iterations", type=int, default=4, help="Lucas-Kanade steps a pyramid level")
    p.add_argument("--radius", type=int, default=5, help="of the least squares' window")
    p.add_argument("--ridge", type=float, default=20.0,
                   help="added to the squared gradients (lightness 0-100): where the picture is flatter, "
                        "the coarser level's motion stands")
    p.add_argument("--repeat", type=int, default=20, help="pairs timed")
    p.add_argument("--regime", default="strong", choices=tuple(tq.REGIMES))
    args = p.parse_args()
    torch.manual_seed(0)
    lk = PyramidalLK(torch.device(args.device), args.iterations, args.radius, args.ridge)
    clips = [(tq.SHARED / "video/color_audio" / name, first, args.frames or n) for name, first, n in tq.CLIPS]
    missing = [str(c) for c, _, _ in clips if not c.is_file()]
    if missing:
        print(f"missing clips: {', '.join(missing)}", file=sys.stderr)
        return 1
    first = tq.read_frames(clips[0][0], 2, 1920)
    L = [work_lightness(tq.lab.split(f)[0], FLOW_SIZE) for f in first]
    c = costs(lk, *L, args.repeat)
    print(f"a flow pair at {L[0].shape[1]}x{L[0].shape[0]} (a 1080p frame's working size), both ways:")
    print(f"  pyramidal Lucas-Kanade in torch on {lk.device}: {c['torch_calls']} torch calls, {c['device_ms']:.1f} ms")
    print(f"  DIS {COLOR_FLOW} on one CPU thread: 0 torch calls, {c['dis_ms']:.1f} ms of CPU")
    print(f"the smoother on each flow ({args.regime} flicker, strength {tq.DEFAULT_STRENGTH}, grid {args.grid}); "
          "measured along DIS medium:")
    print(f"  {'clip':34s} {'flow':6s} {'E_warp':>8} {'CDC':>8} {'ab error':>9}")
    for path, start, n in clips:
        frames = tq.read_frames(path, n, args.long_side, start)
        for name, flow in (("DIS", None), ("LK", lk)):
            motion.FlowEstimator = smoother_on(flow)
            try:
                result, _ = tq.evaluate(frames, tq.DEFAULT_STRENGTH, args.grid, tq.REGIMES[args.regime],
                                           flow_preset=COLOR_FLOW)
            finally:
                motion.FlowEstimator = FlowEstimator
            s = result["metrics"]["smoothed"]
            print(f"  {path.name:34s} {name:6s} {s['e_warp']:8.5f} {s['cdc']:8.5f} {s['ab_error']:9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
