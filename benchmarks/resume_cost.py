"""What resumability costs the single-file command: a film colorized whole (one piece) and in
segments (each kept as it is done, then joined), alternately, in one process with one model.

    python benchmarks/resume_cost.py                        # a 2-minute film, 60 s segments
    python benchmarks/resume_cost.py --seconds 300 --segment-seconds 60 --repeat 1

The segments cost the context frames each one decodes and colorizes beyond its edges (so its
colors equal an uninterrupted run's), one pipeline start per segment, and the join (a packet copy).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import random_weights, sample_frames, write_film


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=120.0, help="film length")
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--arch", choices=("tiny", "large"), default="tiny")
    ap.add_argument("--size", type=int, default=128, help="model input size")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--segment-seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=2, help="rounds; each runs both, in alternating order")
    args = ap.parse_args()

    import vidcolor

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = round(args.seconds * args.fps)
        film = write_film(tmp / "film.mp4", sample_frames(frames, args.width, args.height), args.fps)
        net = vidcolor.Colorizer(weights=random_weights(args.arch, tmp), input_size=args.size, device=args.device,
                                 progress=False)
        runs = {"whole": None, "segments": args.segment_seconds}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(args.repeat):
            for name in (list(runs) if round_ % 2 == 0 else list(runs)[::-1]):
                t0 = time.perf_counter()
                summary = vidcolor.colorize_video(film, tmp / f"{name}.mp4", colorizer=net, quiet=True,
                                                  overwrite=True, segment_seconds=runs[name])
                times[name].append(time.perf_counter() - t0)
                assert summary.frames == frames, (name, summary.frames)
        whole, segments = (statistics.median(times[n]) for n in runs)
        pieces = -(-frames // round(args.segment_seconds * args.fps))
        print(f"film: {args.seconds:g} s, {frames} frames of {args.width}x{args.height} at {args.fps} fps; "
              f"{args.arch} at {args.size} on {net.device}; {pieces} segments of {args.segment_seconds:g} s; "
              f"median of {args.repeat} round(s)")
        print(f"{'run':<10} {'seconds':>8} {'frames/s':>9}  rounds")
        for name in runs:
            med = statistics.median(times[name])
            print(f"{name:<10} {med:8.1f} {frames / med:9.2f}  {', '.join(f'{t:.1f}' for t in times[name])}")
        print(f"segments / whole: {segments / whole:.3f} (cost {100 * (segments / whole - 1):+.1f}%)")


if __name__ == "__main__":
    main()
