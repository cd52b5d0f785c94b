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
import warnings
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from vidcolor import Colorizer
from vidcolor.temporal import ChromaSmoother

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "samples" / "his_girl_friday_1940.mp4"
ARCHS = {
    "tiny": dict(encoder_name="convnext-t"),
    "large": dict(encoder_name="convnext-l"),
}


def random_weights(arch: str, folder: Path) -> Path:
    from spandrel_extra_arches.architectures.DDColor import DDColor

    torch.manual_seed(0)
    net = DDColor(**ARCHS[arch], decoder_name="MultiScaleColorDecoder", input_size=(256, 256), nf=512,
                  num_output_channels=2, last_norm="Spectral", do_normalize=False, num_queries=100,
                  num_scales=3, dec_layers=9)
    path = folder / f"ddcolor_random_{arch}.pth"
    torch.save({"params": net.state_dict()}, path)
    return path


def frames(n: int, width: int, height: int) -> list[np.ndarray]:
    out = []
    with av.open(str(CLIP)) as c:
        for f in c.decode(video=0):
            out.append(cv2.resize(f.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_LINEAR))
            if len(out) == n:
                return out
    return out


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
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit inside the architecture

    with tempfile.TemporaryDirectory() as tmp:
        net = Colorizer(weights=random_weights(args.arch, Path(tmp)), device=args.device, input_size=args.size,
                        batch_size=args.batch_size, precision=args.precision, progress=False)
    clip = frames(args.frames, args.width, args.height)
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
