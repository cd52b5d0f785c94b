"""The network alone on the GPU: fp32 vs bf16, batch sizes, channels-last and torch.compile.

Frames per second of ``Colorizer.infer`` (host float input in, host ab out, as the pipeline
calls it) on random inputs; the model is DDColor with seeded random weights.

    python benchmarks/model_variants.py --arch large --size 512
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHS, random_weights  # noqa: E402

from vidcolor import Colorizer  # noqa: E402


def frames_per_second(net: Colorizer, x: np.ndarray, repeat: int) -> float:
    net.infer(x[: net.batch_size])  # warm-up (and compilation)
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        net.infer(x)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return len(x) / best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="large")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="also try torch.compile (slow to start)")
    args = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("model_variants.py measures the GPU: no CUDA device here")
    weights = random_weights(args.arch, Path(tempfile.mkdtemp(prefix="vidcolor-bench-")))
    x = np.random.default_rng(0).random((args.frames, 3, args.size, args.size), dtype=np.float32)
    print(f"{torch.cuda.get_device_name()}; {args.arch} at {args.size}; {args.frames} frames, best of {args.repeat}")
    results = {}
    for precision, batch, layout, compiled in [("fp32", 1, "nchw", False), ("fp32", 16, "nchw", False),
                                               ("bf16", 1, "nchw", False), ("bf16", 8, "nchw", False),
                                               ("bf16", 16, "nchw", False), ("bf16", 16, "channels_last", False)] + \
            ([("bf16", 16, "nchw", True)] if args.compile else []):
        net = Colorizer(weights=weights, device="cuda", input_size=args.size, precision=precision,
                        batch_size=batch, progress=False)
        if layout == "channels_last":
            net.model.to(memory_format=torch.channels_last)
        if compiled:
            net.replicas[0] = net.model = torch.compile(net.model)
            net._idle.get()
            net._idle.put(net.model)
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        fps = frames_per_second(net, x, args.repeat)
        label = f"{precision} batch {batch:2d} {layout}{' compiled' if compiled else ''}"
        results[label] = fps
        print(f"  {label:34s} {fps:7.1f} frames/s  peak {torch.cuda.max_memory_allocated() / 2**30:5.1f} GiB"
              f"  ({time.perf_counter() - t0:.0f} s with warm-up)", flush=True)
        del net
        torch.cuda.empty_cache()
    base = results["fp32 batch  1 nchw"]
    print(f"bf16 batch 16 / fp32 batch 1: {results['bf16 batch 16 nchw'] / base:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
