"""What resumability costs the single-file command, and what it saves.

A film colorized whole (one piece) and in segments (each kept as it is done, then joined),
alternately, in one process with one model:

    python benchmarks/resume_cost.py                        # a 2-minute film, segments sized by work
    python benchmarks/resume_cost.py --seconds 300 --segment-seconds 60 --repeat 1

A crash part-way (``--kill-at 0.6``: interrupted once 60% of the frames are written), then the
same command again: the rerun's time against a whole run's, and its output against the whole
run's, frame for frame (FFV1, lossless). ``--work`` scales the target of a segment's work
(60 s) down with a model that runs faster than the default one on a CPU:

    python benchmarks/resume_cost.py --seconds 30 --kill-at 0.6 --work 5

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
    ap.add_argument("--segment-seconds", default="auto", help="auto (by work) or seconds of film")
    ap.add_argument("--repeat", type=int, default=2, help="rounds; each runs both, in alternating order")
    ap.add_argument("--kill-at", type=float, help="interrupt a run once this share of the frames is written, "
                    "then resume it")
    ap.add_argument("--work", type=float, help="seconds of work a segment sized by work aims at (default 60)")
    args = ap.parse_args()
    segment = args.segment_seconds if args.segment_seconds == "auto" else float(args.segment_seconds)

    import vidcolor

    if args.work is not None:
        from vidcolor.resume import resumable

        resumable.SEGMENT_WORK = args.work
    if args.kill_at is not None:
        return crash_and_resume(args, segment)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames, film, net = film_and_model(args, tmp)
        runs = {"whole": None, "segments": segment}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(args.repeat):
            for name in (list(runs) if round_ % 2 == 0 else list(runs)[::-1]):
                t0 = time.perf_counter()
                summary = vidcolor.colorize_video(film, tmp / f"{name}.mp4", colorizer=net, quiet=True,
                                                  overwrite=True, segment_seconds=runs[name])
                times[name].append(time.perf_counter() - t0)
                assert summary.frames == frames, (name, summary.frames)
        whole, segments = (statistics.median(times[n]) for n in runs)
        print(f"film: {args.seconds:g} s, {frames} frames of {args.width}x{args.height} at {args.fps} fps; "
              f"{args.arch} at {args.size} on {net.device}; segments: {args.segment_seconds}; "
              f"median of {args.repeat} round(s)")
        print(f"{'run':<10} {'seconds':>8} {'frames/s':>9}  rounds")
        for name in runs:
            med = statistics.median(times[name])
            print(f"{name:<10} {med:8.1f} {frames / med:9.2f}  {', '.join(f'{t:.1f}' for t in times[name])}")
        print(f"segments / whole: {segments / whole:.3f} (cost {100 * (segments / whole - 1):+.1f}%)")


def film_and_model(args, tmp: Path):
    """(frames, the film, a Colorizer of random weights) as the arguments say, in ``tmp``."""
    import vidcolor

    frames = round(args.seconds * args.fps)
    film = write_film(tmp / "film.mp4", sample_frames(frames, args.width, args.height), args.fps)
    net = vidcolor.Colorizer(weights=random_weights(args.arch, tmp), input_size=args.size, device=args.device,
                             progress=False)
    return frames, film, net


def crash_and_resume(args, segment) -> None:
    import numpy as np

    import vidcolor
    from vidcolor.resume import resumable
    from vidcolor.errors import Interrupted

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames, film, net = film_and_model(args, tmp)
        common = dict(colorizer=net, quiet=True, codec="ffv1")
        t0 = time.perf_counter()
        vidcolor.colorize_video(film, tmp / "whole.mkv", segment_seconds=None, **common)
        whole = time.perf_counter() - t0

        def crash(event) -> None:
            if event.task == "frames" and event.kind == "advance" and event.done >= args.kill_at * frames:
                raise KeyboardInterrupt

        t0 = time.perf_counter()
        try:
            vidcolor.colorize_video(film, tmp / "out.mkv", segment_seconds=segment, on_progress=crash, **common)
            raise SystemExit("the run ended before the crash")
        except Interrupted:
            crashed = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = vidcolor.colorize_video(film, tmp / "out.mkv", segment_seconds=segment, **common)
        rerun = time.perf_counter() - t0
        same = all(np.array_equal(a.to_ndarray(), b.to_ndarray()) for a, b in
                   zip(decoded(tmp / "whole.mkv"), decoded(tmp / "out.mkv"), strict=True))
        print(f"film: {args.seconds:g} s, {frames} frames of {args.width}x{args.height} at {args.fps} fps; "
              f"{args.arch} at {args.size} on {net.device}; segments: {args.segment_seconds}, "
              f"work target {resumable.SEGMENT_WORK:g} s")
        print(f"whole run {whole:.1f} s; crashed at {100 * args.kill_at:.0f}% after {crashed:.1f} s; "
              f"rerun {rerun:.1f} s ({summary.resumed} of {frames} frames kept): rerun / whole "
              f"{rerun / whole:.2f}; output identical to the whole run: {same}")


def decoded(path: Path):
    import av

    with av.open(str(path)) as c:
        yield from c.decode(video=0)


if __name__ == "__main__":
    main()
