"""Batch throughput: items per hour of the local and Ray engines on the same set. Printed numbers.

A set of gray H.264 films with stereo tracks is generated from the black-and-white sample; each
engine colorizes the whole set into a fresh folder with ``run_batch`` (start-up included: a
batch pays it too). DDColor has seeded random weights (its speed does not depend on them).

    python benchmarks/batch_engines.py                       # 4 films of 48 frames, 320x240
    python benchmarks/batch_engines.py --items 8 --jobs 1 2  # also try 2 workers at once
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHS, random_weights, sample_frames, write_film  # noqa: E402

from vidcolor.batch import run_batch  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=4)
    p.add_argument("--frames", type=int, default=48, help="frames per film")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--arch", choices=ARCHS, default="tiny")
    p.add_argument("--size", type=int, default=256, help="model input size")
    p.add_argument("--device", default="cpu")
    p.add_argument("--jobs", type=int, nargs="+", default=[1], help="worker counts to try on each engine")
    p.add_argument("--engines", nargs="+", default=["local", "ray"])
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights = random_weights(args.arch, tmp)
        films = tmp / "films"
        films.mkdir()
        frames = sample_frames(args.frames, args.width, args.height)
        for i in range(args.items):
            write_film(films / f"reel_{i:03d}.mp4", frames[i % 7:] + frames[:i % 7])
        print(f"{args.items} films of {args.frames} frames, {args.width}x{args.height}; DDColor {args.arch} at "
              f"{args.size} on {args.device}")
        print(f"{'engine':<8} {'jobs':>4} {'wall s':>8} {'items/hour':>11} {'frames/s':>9}  done/failed")
        base = None
        for engine in args.engines:
            for jobs in args.jobs:
                out = tmp / f"out_{engine}_{jobs}"
                t0 = time.perf_counter()
                summary = run_batch([str(films)], out, engine=engine, jobs=jobs, quiet=True, weights=str(weights),
                                    input_size=args.size, device=args.device)
                wall = time.perf_counter() - t0
                per_hour = args.items / wall * 3600
                base = base or per_hour
                print(f"{engine:<8} {jobs:>4} {wall:>8.1f} {per_hour:>11.1f} {args.items * args.frames / wall:>9.2f}  "
                      f"{summary.count('done')}/{summary.failed}   x{per_hour / base:.2f} of the first row")
                shutil.rmtree(out)


if __name__ == "__main__":
    main()
