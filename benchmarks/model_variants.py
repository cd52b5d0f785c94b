"""The network alone: fp32 vs bf16, batch sizes, channels-last and torch.compile, on the GPU or the CPU.

Frames per second of ``Colorizer.infer`` (host float input in, host ab out, as the pipeline
calls it) on random inputs; the model is DDColor with seeded random weights.

    python benchmarks/model_variants.py --arch large --size 512
    python benchmarks/model_variants.py --device cpu --arch tiny --size 256 --frames 8 --compile
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
from vidcolor.threads import available_cores  # noqa: E402


def frames_per_second(net: Colorizer, x: np.ndarray, repeat: int) -> float:
    net.infer(x[: net.batch_size])  # warm-up (and compilation)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        net.infer(x)  # ends with the copy of ab to the host: the GPU's work is inside
        best = min(best, time.perf_counter() - t)
    return len(x) / best


GPU_VARIANTS = [("fp32", 1, False), ("fp32", 16, False), ("bf16", 1, False), ("bf16", 8, False),
                ("bf16", 16, False), ("bf16", 16, True)]  # (precision, batch, channels-last)
# On the CPU as the pipeline runs it: one single-threaded replica per core, a frame each.
CPU_VARIANTS = [("fp32", None, False), ("fp32", None, True)]
# --compile adds the last variant compiled.


def compile_replicas(net: Colorizer) -> None:
    net.replicas = [torch.compile(replica) for replica in net.replicas]
    while not net._idle.empty():
        net._idle.get()
    for replica in net.replicas:
        net._idle.put(replica)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="large")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cuda", help="cuda (the default) or cpu")
    p.add_argument("--compile", action="store_true", help="also try torch.compile (slow to start)")
    args = p.parse_args()
    gpu = args.device.startswith("cuda")
    if gpu and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: measure the CPU with --device cpu")
    weights = random_weights(args.arch, Path(tempfile.mkdtemp(prefix="vidcolor-bench-")))
    x = np.random.default_rng(0).random((args.frames, 3, args.size, args.size), dtype=np.float32)
    name = torch.cuda.get_device_name() if gpu else f"CPU, {available_cores()} cores"
    print(f"{name}; {args.arch} at {args.size}; {args.frames} frames, best of {args.repeat}")
    variants = [(*v, False) for v in (GPU_VARIANTS if gpu else CPU_VARIANTS)]
    if args.compile:
        variants.append((*variants[-1][:3], True))
    results = {}
    for precision, batch, channels_last, compiled in variants:
        net = Colorizer(weights=weights, device=args.device, input_size=args.size, precision=precision,
                        batch_size=batch, channels_last=channels_last, progress=False)
        if compiled:
            compile_replicas(net)
        if gpu:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        fps = frames_per_second(net, x, args.repeat)
        label = f"{precision} batch {net.batch_size:2d} {'channels_last' if channels_last else 'nchw'}" \
                f"{' compiled' if compiled else ''}"
        results[label] = fps
        peak = f"  peak {torch.cuda.max_memory_allocated() / 2**30:5.1f} GiB" if gpu else ""
        print(f"  {label:34s} {fps:7.2f} frames/s{peak}  ({time.perf_counter() - t0:.0f} s with warm-up)", flush=True)
        del net
        if gpu:
            torch.cuda.empty_cache()
    first, *_ = results.values()
    for label, fps in list(results.items())[1:]:
        print(f"{label} / {next(iter(results))}: {fps / first:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
