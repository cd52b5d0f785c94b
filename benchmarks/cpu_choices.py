"""On the CPU: how much faster each choice is than the default model (ConvNeXt-L at 512).

The network alone as the pipeline runs it on the CPU (``Colorizer.infer``: its replicas, one per
worker, channels-last), with seeded random weights (speed does not depend on them), for the two
architectures at two input sizes. The speed-ups printed are those ``vidcolor.models.advice``
tells the user of, scaled by the pace measured on the run itself.

    python benchmarks/cpu_choices.py --frames 4
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import random_weights  # noqa: E402

from vidcolor import Colorizer  # noqa: E402
from vidcolor.threads import available_cores  # noqa: E402

CHOICES = [("large", 512), ("large", 256), ("tiny", 512), ("tiny", 256)]


def seconds_per_frame(weights: Path, size: int, frames: int) -> float:
    net = Colorizer(weights=weights, device="cpu", input_size=size)
    x = np.random.default_rng(0).random((frames, 3, size, size), dtype=np.float32)
    net.infer(x[: net.threads.workers])  # warm-up
    t = time.perf_counter()
    net.infer(x)
    return (time.perf_counter() - t) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args()
    print(f"CPU, {available_cores()} core(s); {args.frames} frames each, after a warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        weights = {arch: random_weights(arch, Path(tmp)) for arch in ("large", "tiny")}
        times = {(arch, size): seconds_per_frame(weights[arch], size, args.frames) for arch, size in CHOICES}
    base = times[CHOICES[0]]
    print(f"{'architecture':<14}{'size':>6}{'s/frame':>10}{'speed-up':>10}")
    for (arch, size), t in times.items():
        print(f"{'ConvNeXt-' + ('L' if arch == 'large' else 'T'):<14}{size:>6}{t:>10.3f}{base / t:>9.2f}x")


if __name__ == "__main__":
    main()
