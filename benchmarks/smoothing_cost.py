"""What temporal smoothing costs per frame, next to what the model costs. Printed numbers.

The model is spandrel's DDColor with random weights (its speed does not depend on them): the
paper-tiny architecture (ConvNeXt-T) by default, or the large one (ConvNeXt-L, modelscope,
paper, artistic) with --arch large. Frames come from the black-and-white sample, resized to the
frame size asked for. Smoothing runs on the model's S x S grid, as in the pipeline, and includes
the optical flow and cut detection: with each DIS preset asked for (the smoother's is fast), and
the blend in OpenCV and in torch on the network's device (the flow judged there too, as the
pipeline does), alternated in one run. The flow alone is timed judged in NumPy and on the
device, and its DIS alone: what the CPU keeps of it where a GPU judges it.

    python benchmarks/smoothing_cost.py                       # 720p frames, input size 512, CPU
    python benchmarks/smoothing_cost.py --device cuda --arch large --height 1080 --width 1920
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHS, random_weights, sample_frames  # noqa: E402

from vidcolor import Colorizer  # noqa: E402
from vidcolor.temporal import ChromaSmoother, MotionTracker  # noqa: E402
from vidcolor.temporal.flow import FlowEstimator, dis_preset, work_lightness  # noqa: E402


def timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="tiny")
    p.add_argument("--size", type=int, default=512, help="model input size")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--strength", type=float, default=0.5)
    p.add_argument("--flow-presets", default="fast,medium", help="DIS presets to compare (fast: the smoother's)")
    p.add_argument("--repeat", type=int, default=2, help="rounds, alternated; the best of each")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        net = Colorizer(weights=random_weights(args.arch, Path(tmp)), device=args.device, input_size=args.size,
                        batch_size=args.batch_size, precision=args.precision, progress=False)
    clip = sample_frames(args.frames, args.width, args.height)
    print(f"{net!r}; {len(clip)} frames of {args.width}x{args.height}; torch threads {torch.get_num_threads()}, "
          f"OpenCV threads {cv2.getNumThreads()}")
    net.predict(clip[:net.batch_size])  # warm-up: allocations, cuDNN autotuning

    model_s, predictions = 0.0, []
    for i in range(0, len(clip), net.batch_size):
        (L, ab), s = timed(net.predict, clip[i:i + net.batch_size])
        if net.device.type == "cuda":
            torch.cuda.synchronize()
        model_s += s
        predictions += list(zip(L, ab))

    def smooth(preset: str, device) -> tuple[float, list]:
        smoother = ChromaSmoother(args.strength, tracker=MotionTracker(preset=preset, device=device), device=device)
        spent, smoothed = 0.0, []
        for L, ab in predictions:
            out, s = timed(smoother.push, L, ab)
            spent += s
            smoothed += out
        out, s = timed(smoother.flush)
        return spent + s, smoothed + out

    def flow_alone(preset: str, device=None) -> float:
        tracker = MotionTracker(preset=preset, device=device)
        return sum(timed(tracker.push, L)[1] for L, _ in predictions)

    def dis_alone(preset: str) -> float:
        small = [work_lightness(L) for L, _ in predictions]
        dis = FlowEstimator(dis_preset(preset, small[0].shape))
        return sum(timed(dis.both_ways, a, b)[1] for a, b in zip(small, small[1:]))

    # Each DIS preset, and the blend in OpenCV and in torch on the network's device, alternated.
    blends = {"OpenCV blend": None, f"torch blend on {net.device}": net.device}
    presets = args.flow_presets.split(",")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for preset in presets:
            for key, spent in ((f"flow alone, DIS {preset}, judged in NumPy", flow_alone(preset)),
                               (f"flow alone, DIS {preset}, judged on {net.device}", flow_alone(preset, net.device)),
                               (f"  of which DIS {preset} both ways (the CPU's share)", dis_alone(preset))):
                best[key] = min(best.get(key, 1e9), spent)
            for blend, device in blends.items():
                key = f"smoothing, DIS {preset}, {blend}"
                spent, smoothed = smooth(preset, device)
                best[key] = min(best.get(key, 1e9), spent)
    finish_s = sum(timed(net.finish, L, s.ab)[1] for (L, _), s in zip(predictions, smoothed))

    n = len(clip)
    model_ms, finish_ms = (1000 * x / n for x in (model_s, finish_s))
    print(f"model (preprocess + network):   {model_ms:8.1f} ms/frame")
    for key, spent in best.items():
        ms = 1000 * spent / n
        print(f"{key + ':':52s} {ms:8.1f} ms/frame  = {ms / model_ms:.3f} x model")
    print(f"finish (upsample ab, to RGB):   {finish_ms:8.1f} ms/frame  = {finish_ms / model_ms:.3f} x model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
