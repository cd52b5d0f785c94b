"""Torch calls a frame of each step that runs on the network's device: on a GPU each is a kernel
launch or more that the CPU pays for, under Python, whatever the frame's size. Printed numbers.

Counted with a ``TorchDispatchMode`` (every ATen call, views included) on real 1080p footage at
the model's 512 grid, smoothing at the default strength (4 neighbours each way); the steps run
in torch on ``--device`` (the CPU by default: the counts are the same anywhere).

    python benchmarks/investigations/torch_calls.py
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks/common.py
from common import sample_frames  # noqa: E402

from vidcolor.lab_torch import DeviceLab  # noqa: E402
from vidcolor.media.pixels import yuv_layout  # noqa: E402
from vidcolor.temporal.flow import FlowEstimator, dis_preset  # noqa: E402
from vidcolor.temporal.flow_torch import judge  # noqa: E402
from vidcolor.temporal.motion import COLOR_FLOW, MotionTracker  # noqa: E402
from vidcolor.temporal.smoother import DEFAULT_STRENGTH, MAX_CHROMA_GAIN, window  # noqa: E402
from vidcolor.temporal.smoother_torch import DeviceBlend  # noqa: E402


class Calls(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def calls(fn, *args) -> int:
    fn(*args)  # the first call makes what is cached
    with Calls() as c:
        fn(*args)
    return c.count


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=512, help="model input size")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    a = p.parse_args()
    device = torch.device(a.device)
    frames = sample_frames(2, a.width, a.height)
    lab = DeviceLab(device, a.size, "bilinear")
    L = [lab.prepare(f)[0] for f in frames]
    ab = np.random.default_rng(0).normal(0, 20, (a.size, a.size, 2)).astype(np.float32)
    tracker = MotionTracker(preset=COLOR_FLOW)
    small = [tracker.sample(x)[1].small for x in L]
    flows = FlowEstimator(dis_preset(COLOR_FLOW, small[0].shape))
    pair = judge(flows.both_ways(*small), device)
    blend = DeviceBlend(device, MAX_CHROMA_GAIN)
    held = blend.hold(ab, pair)
    _, radius = window(DEFAULT_STRENGTH)
    sides = [[(held.ab, *held.forward)] * radius, [(held.ab, *held.backward)] * radius]
    weights = [1.0] * (radius + 1)
    counted = {
        "prepare (lightness, network input)": calls(lab.prepare, frames[0]),
        "finish to yuv420p planes": calls(lab.finish_yuv, L[0], ab, yuv_layout("yuv420p", 1, 1)),
        "flow pair judged": calls(judge, flows.both_ways(*small), device),
        "ab held for the blends": calls(blend.hold, ab, pair),
        f"blend ({radius} neighbours each way)": calls(blend.blend, held.ab, sides, weights, True),
    }
    print(f"torch calls a frame, {a.width}x{a.height} at {a.size}, on {device}:")
    for name, n in counted.items():
        print(f"  {name:36s} {n:5d}")
    print(f"  {'all':36s} {sum(counted.values()):5d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
