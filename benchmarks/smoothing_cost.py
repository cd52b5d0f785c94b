"""What temporal smoothing costs per frame, next to what the model costs. Printed numbers.

The model is spandrel's DDColor with random weights (its speed does not depend on them): the
paper-tiny architecture (ConvNeXt-T) by default, or the large one (ConvNeXt-L, modelscope,
paper, artistic) with --arch large. Frames come from the black-and-white sample, resized to the
frame size asked for. Smoothing runs on the model's S x S grid, as in the pipeline, and includes
the optical flow and cut detection.

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
from vidcolor.temporal import ChromaSmoother  # noqa: E402


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

    smoother = ChromaSmoother(args.strength)
    smooth_s, smoothed = 0.0, []
    for L, ab in predictions:
        out, s = timed(smoother.push, L, ab)
        smooth_s += s
        smoothed += out
    out, s = timed(smoother.flush)
    smooth_s += s
    smoothed += out

    finish_s = sum(timed(net.finish, L, s.ab)[1] for (L, _), s in zip(predictions, smoothed))

    n = len(clip)
    model_ms, smooth_ms, finish_ms = (1000 * x / n for x in (model_s, smooth_s, finish_s))
    print(f"model (preprocess + network):   {model_ms:8.1f} ms/frame")
    print(f"smoothing (flow, cuts, blend):  {smooth_ms:8.1f} ms/frame  = {smooth_ms / model_ms:.3f} x model")
    print(f"finish (upsample ab, to RGB):   {finish_ms:8.1f} ms/frame  = {finish_ms / model_ms:.3f} x model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
