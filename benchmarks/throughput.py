"""Throughput: each stage alone, the network alone, the whole pipeline, and the naive loop. Printed numbers.

A gray H.264 film with a stereo track is generated from the black-and-white sample. The
network is DDColor with seeded random weights (its speed does not depend on them).

- stages: each one alone over the same frames (decode, prepare, network, smooth, finish, encode);
- end to end: ``colorize_video`` on the film, the Colorizer built beforehand (start-up excluded),
  with the default smoothing and without, as a ratio to the network alone (a short film's total
  includes filling and draining the queues and x264's lookahead of 40 frames, a few seconds
  that a film of hours does not notice: give it --frames 240 or more);
- naive: what existing tools do, in sequence: decode a frame, colorize it alone (batch 1, fp32,
  one network with torch's default threads), encode it;
- memory: peak RSS (and peak GPU memory) of a fresh process colorizing the film and one four
  times longer;
- ``--ceiling``: the pipeline with the network replaced by an instant stand-in (it returns ab
  stored beforehand: the natural, moving color of the color sample, as a trained network gives;
  the random weights' noisy color would cost the encoder several times more), at 720p and 1080p: the frames/s the pipeline sustains by itself, as a ratio
  to the network's own, smoothed, not, and smoothed with a keyframe on the first frame (the
  references' cost), and each stage's CPU milliseconds per frame (the number to drive down so
  that a GPU sets the pace);
- where the Lab conversions run in torch on the device or the network in channels-last (by default
  channels-last on the CPU, both on a GPU), all of it twice in the same run: so, and as before them (OpenCV on the CPU, NCHW),
  unless ``--no-before``.

    python benchmarks/throughput.py                  # CPU: paper-tiny at 256 on 720p
    python benchmarks/throughput.py --ceiling        # the pipeline without the network, 720p and 1080p
    python benchmarks/throughput.py --device cuda --arch large --size 512 --width 1920 --height 1080 \\
        --precision bf16 --frames 240
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHS, natural_ab, random_weights, sample_frames, write_film  # noqa: E402

from vidcolor import Colorizer, VidcolorError, colorize_video, lab  # noqa: E402
from vidcolor.media.encode import EncodeSettings  # noqa: E402
from vidcolor.stages import Workers  # noqa: E402
from vidcolor.temporal import DEFAULT_STRENGTH, ChromaSmoother, MotionTracker  # noqa: E402
from vidcolor.temporal.motion import COLOR_FLOW  # noqa: E402
from vidcolor.threads import ThreadPlan, apply as apply_threads, available_cores  # noqa: E402


class Clock:
    """Wall and process CPU seconds of a block; waits for the GPU at both ends."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        self._sync()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def encode_all(frames, path: Path, threads: int = 0, preset: str | None = None) -> None:
    """The output preset's encoder and settings (web: H.264), each frame encoded as it comes
    (0 threads: the encoder's choice)."""
    with av.open(str(path), "w") as out:
        s = None
        for rgb in frames:
            if s is None:
                settings, _ = EncodeSettings(preset=preset).resolve("mp4", path, rgb.shape[1], rgb.shape[0])
                s = out.add_stream(settings.codec, rate=24, options=settings.options())
                s.height, s.width, s.pix_fmt = rgb.shape[0], rgb.shape[1], settings.pix_fmt
                s.codec_context.thread_count = threads
            out.mux(s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=s.pix_fmt)))
        out.mux(s.encode(None))


def naive_loop(net: Colorizer, src: Path, dst: Path) -> None:
    """Decode a frame, colorize it alone, encode it, next: one loop, as the existing tools run."""
    with av.open(str(src)) as inp:
        encode_all((net.colorize_batch([f.to_ndarray(format="rgb24")])[0] for f in inp.decode(video=0)), dst)


STAGES = ("decode", "prepare", "network", "smooth", "finish", "encode")
FLOW = "  flow"  # the smoother's DIS flow alone (it is part of "smooth")


def stages(net: Colorizer, film: Path, tmp: Path, preset: str | None, kept: dict | None = None,
           stored: list[np.ndarray] | None = None) -> dict[str, Clock]:
    """Each stage alone, with the pipeline's thread plan (frames side by side where it says so);
    the stages after the network take ``stored`` ab in place of its own where given; the finished
    frames go into ``kept`` where one is given."""
    clocks = {name: Clock(net.device) for name in (*STAGES, FLOW)}
    plan = net.threads
    with clocks["decode"]:
        frames = decode_rgb(film)
    workers = Workers(plan.color_workers, "prepare")
    with clocks["prepare"]:
        prepared = list(workers.map(net.prepare, frames))
    lightness = [L for L, _ in prepared]
    inputs = [x for _, x in prepared]
    with clocks["network"]:  # driven as the pipeline drives it
        ab = [a for a, _ in net.infer_stream((x, None) for x in inputs)]
    ab = stored or ab
    tracker, flows = MotionTracker(preset=COLOR_FLOW), Workers(plan.smooth_workers, "flow")
    with clocks[FLOW]:
        samples = [tracker.sample(L) for L in lightness]
        list(flows.map(lambda pair: tracker.flow(*pair), samples))
    flows.close()
    smoother = ChromaSmoother(DEFAULT_STRENGTH, workers=plan.smooth_workers,
                              device=net.device if net.smooth_on_device else None)
    with clocks["smooth"]:
        smoothed = [s for L, a in zip(lightness, ab) for s in smoother.push(L, a, None)] + smoother.flush()
    with clocks["finish"]:
        colored = list(workers.map(lambda pair: net.finish(*pair), zip(lightness, (s.ab for s in smoothed))))
    workers.close()
    with clocks["encode"]:
        encode_all(colored, tmp / "stage.mp4", net.threads.encoder_threads, preset)
    if kept is not None:
        kept.update(colored=colored)
    return clocks


class BusyTime:
    """Wall time during which at least one call of a function was running (calls may overlap)."""

    def __init__(self):
        self.seconds, self._running, self._since = 0.0, 0, 0.0
        self._lock = threading.Lock()

    def wrap(self, fn):
        def timed(*args):
            with self._lock:
                if not self._running:
                    self._since = time.perf_counter()
                self._running += 1
            try:
                return fn(*args)  # infer ends with a copy to the host: the GPU work is inside
            finally:
                with self._lock:
                    self._running -= 1
                    if not self._running:
                        self.seconds += time.perf_counter() - self._since
        return timed


def end_to_end(net: Colorizer, film: Path, dst: Path, **options) -> tuple[Clock, float]:
    """The whole pipeline's clock, and the share of its wall time the network was computing."""
    busy = BusyTime()
    net.infer = busy.wrap(net.infer)
    try:
        with Clock(net.device) as clock:
            colorize_video(film, dst, colorizer=net, overwrite=True, quiet=True, **options)
    finally:
        del net.infer
    return clock, busy.seconds / clock.wall


def peak_memory(args, weights: Path, film: Path, dst: Path) -> dict:
    """Peak RSS and peak GPU memory of one run in a fresh process."""
    cmd = [sys.executable, __file__, "--child", str(weights), str(film), str(dst), "--device", args.device,
           "--size", str(args.size), "--precision", args.precision]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        raise SystemExit(f"memory run failed on {film}")
    return json.loads(proc.stdout)


def child(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("weights"), p.add_argument("film"), p.add_argument("dst")
    p.add_argument("--device"), p.add_argument("--size", type=int), p.add_argument("--precision")
    p.add_argument("--workers", type=int)
    a = p.parse_args(argv)
    net = Colorizer(weights=a.weights, device=a.device, input_size=a.size, precision=a.precision,
                    workers=a.workers, progress=False)
    colorize_video(a.film, a.dst, colorizer=net, overwrite=True, quiet=True)
    gpu = torch.cuda.max_memory_allocated(net.device) / 2**20 if net.device.type == "cuda" else None
    print(json.dumps({"rss_mb": peak_rss_mb(), "gpu_mb": gpu}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries the forking parent's
    peak across exec into it."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return 0


def fps(n: int, clock: Clock) -> str:
    return f"{n / clock.wall:7.2f} frames/s  ({1000 * clock.wall / n:7.1f} ms wall, {1000 * clock.cpu / n:7.1f} ms CPU per frame)"


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="tiny")
    p.add_argument("--size", type=int, default=256, help="model input size")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--frames", type=int, default=48, help="frames of the timed film (0: memory runs only)")
    p.add_argument("--memory-frames", type=int, default=24, help="the shorter film of the memory runs (0: skip)")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--workers", type=int, help="network replicas (CPU); default: vidcolor's choice")
    p.add_argument("--preset", help="output preset of the timed runs (default: web)")
    p.add_argument("--batch-size", type=int, help="frames per pass; default: vidcolor's choice")
    p.add_argument("--color-workers", type=int, help="frames prepared and finished at once; default: the plan's")
    p.add_argument("--smooth-workers", type=int, help="frames smoothed at once; default: the plan's")
    p.add_argument("--opencv-threads", type=int, help="OpenCV's threads per call (1 or more); default: the plan's")
    p.add_argument("--repeat", type=int, default=2, help="rounds of runs: each speed is the best, the ratios to the "
                   "naive loop and to before the median of the rounds'")
    p.add_argument("--lab-on-device", action=argparse.BooleanOptionalAction, help="default: vidcolor's choice")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="default: vidcolor's choice")
    p.add_argument("--smooth-on-device", action=argparse.BooleanOptionalAction, help="default: vidcolor's choice")
    p.add_argument("--ceiling", action="store_true", help="the pipeline with an instant stand-in for the network, "
                   "at each of --sizes: the frames/s it sustains by itself and each stage's milliseconds")
    p.add_argument("--sizes", default="1280x720,1920x1080", help="WIDTHxHEIGHT,... of the ceiling runs")
    p.add_argument("--no-before", action="store_true", help="skip the runs with OpenCV's Lab and NCHW")
    p.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    p.add_argument("--encoders", default="", help="with --ceiling: CODEC[:PRESET],... each timed alone on the "
                   "colorized frames of the last of --sizes (e.g. libx264:medium,libx264:faster,h264_nvenc:p5)")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vidcolor-bench-"))
    weights = random_weights(args.arch, tmp)
    if not args.frames:
        return memory(args, weights, tmp)
    if args.ceiling:
        return ceiling(args, weights, tmp)
    film = write_film(tmp / "film.mp4", sample_frames(args.frames, args.width, args.height))

    def colorizer(**layout) -> Colorizer:
        return make_colorizer(args, weights, args.width, args.height, **layout)

    net = colorizer(lab_on_device=args.lab_on_device, channels_last=args.channels_last,
                    smooth_on_device=args.smooth_on_device)
    nets = {"": net}
    if (net.lab_on_device or net.channels_last or net.smooth_on_device) and not args.no_before:
        nets["before: "] = colorizer(lab_on_device=False, channels_last=False, smooth_on_device=False)
    n = args.frames
    described = "\n".join(map(repr, nets.values()))
    print(f"{described}\n{n} frames of {args.width}x{args.height}; {available_cores()} cores; "
          f"threads {net.threads}; torch {torch.__version__}, PyAV {av.__version__}, OpenCV {cv2.__version__}")
    if net.device.type == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(net.device)}")
    if not args.no_naive:
        naive_net = Colorizer(weights=weights, device=args.device, input_size=args.size, batch_size=1, workers=1,
                              lab_on_device=False, channels_last=False, smooth_on_device=False, progress=False)
        # The naive loop leaves every library at its default: torch and OpenCV on every core.
        naive_plan = ThreadPlan(1, available_cores(), available_cores(), 0)
        naive_net.colorize_batch(sample_frames(1, args.width, args.height))  # warm-up

    # Alternate the runs: the best of each gives its speed, the rounds give the ratios.
    best: dict[str, Clock] = {}
    busy: dict[str, float] = {}
    walls: dict[str, list[float]] = {}  # every run's, in order: one per round

    def keep(label: str, clock: Clock) -> None:
        walls.setdefault(label, []).append(clock.wall)
        if label not in best or clock.wall < best[label].wall:
            best[label] = clock

    def speedup(slow: str, fast: str) -> float:
        """The median over the rounds of each round's ratio: a quiet or a busy spell on this
        shared machine moves both runs of a round, and no single lucky run decides."""
        return statistics.median(a / b for a, b in zip(walls[slow], walls[fast]))

    runs = (("smoothed (default)", {}), ("no smoothing", {"smooth_strength": 0}))
    for _ in range(args.repeat):
        apply_threads(net.threads)
        for prefix, c in nets.items():
            for name, clock in stages(c, film, tmp, args.preset).items():
                keep(prefix + name, clock)
            for label, options in runs:
                clock, busy_share = end_to_end(c, film, tmp / "out.mp4", preset=args.preset, **options)
                keep(prefix + label, clock)
                busy[prefix + label] = max(busy.get(prefix + label, 0.0), busy_share)
        if not args.no_naive:
            apply_threads(naive_plan)
            with Clock(naive_net.device) as clock:
                naive_loop(naive_net, film, tmp / "naive.mp4")
            keep("naive", clock)
    apply_threads(net.threads)

    for prefix in nets:
        print(f"\n{prefix or 'vidcolor: '}each stage alone (best of {args.repeat}):")
        for name in (*STAGES, FLOW):
            print(f"  {name:8s} {fps(n, best[prefix + name])}")
        network = best[prefix + "network"]
        print("End to end (colorize_video, start-up excluded):")
        for label, _ in runs:
            clock = best[prefix + label]
            naive = "" if args.no_naive else f"{speedup('naive', prefix + label):.2f} x the naive loop; "
            print(f"  {label:18s} {fps(n, clock)}\n  {'':18s} = {network.wall / clock.wall:.3f} x the network alone, "
                  f"{naive}network busy {100 * busy[prefix + label]:.0f}% of the wall time")
        other_cpu = sum(best[prefix + name].cpu for name in STAGES if name != "network")
        print(f"Bound on 'end to end / network alone' when the cores are all busy: network CPU / all stages' CPU "
              f"= {network.cpu / (network.cpu + other_cpu):.3f}")
    if len(nets) > 1:
        for label, _ in runs:
            print(f"{label}: {speedup('before: ' + label, label):.2f} x before")
    if not args.no_naive:
        print(f"\nNaive loop (batch 1, fp32, one network, sequential): {fps(n, best['naive'])}; each round "
              + ", ".join(f"{n / wall:.2f}" for wall in walls["naive"]) + " frames/s")

    return memory(args, weights, tmp)


def make_colorizer(args, weights: Path, width: int, height: int, **layout) -> Colorizer:
    """The benchmark's Colorizer with the thread plan's overrides, warmed up on frames of this size."""
    c = Colorizer(weights=weights, device=args.device, input_size=args.size, precision=args.precision,
                  workers=args.workers, batch_size=args.batch_size, progress=False, **layout)
    overrides = {k: getattr(args, k) for k in ("color_workers", "smooth_workers", "opencv_threads")
                 if getattr(args, k) is not None}
    c.threads = dataclasses.replace(c.threads, **overrides)
    c.colorize_batch(sample_frames(c.batch_size, width, height))
    return c


def stand_in(stored: list[np.ndarray]):
    """An instant stand-in for ``net.infer``: ``stored`` ab, in turn (in the order of the calls, which
    replicas running side by side may swap: the same work)."""
    turn = itertools.count()
    lock = threading.Lock()

    def infer(x: np.ndarray) -> np.ndarray:
        with lock:
            first = next(turn)
            for _ in range(len(x) - 1):
                next(turn)
        return np.stack([stored[(first + i) % len(stored)] for i in range(len(x))])
    return infer


def ceiling(args, weights: Path, tmp: Path) -> int:
    """What the pipeline sustains by itself: the network instant, each other stage at its cost."""
    n = args.frames
    print(f"Ceiling: the pipeline with an instant stand-in for the network; {n} frames; {available_cores()} cores; "
          f"torch {torch.__version__}, PyAV {av.__version__}, OpenCV {cv2.__version__}")
    sizes = args.sizes.split(",")
    for size in sizes:
        width, height = (int(x) for x in size.lower().split("x"))
        frames = sample_frames(n, width, height)
        film = write_film(tmp / f"ceiling_{size}.mp4", frames)
        net = make_colorizer(args, weights, width, height, lab_on_device=args.lab_on_device,
                             channels_last=args.channels_last, smooth_on_device=args.smooth_on_device)
        best: dict[str, Clock] = {}
        kept: dict = {}
        stored = natural_ab(n, net.input_size, net.input_size)
        # A keyframe on the first frame, which its shot follows: the references' cost on top.
        L0 = lab.split(frames[0])[0]
        keyframe = lab.compose(L0, cv2.resize(stored[0], (width, height), interpolation=cv2.INTER_LINEAR))
        runs = (("smoothed (default)", {}), ("no smoothing", {"smooth_strength": 0}),
                ("smoothed, keyframe", {"references": {0: keyframe}}))
        for _ in range(args.repeat):
            apply_threads(net.threads)
            for name, clock in stages(net, film, tmp, args.preset, kept, stored).items():
                if name not in best or clock.wall < best[name].wall:
                    best[name] = clock
            for label, options in runs:
                net.infer = stand_in(stored)  # end_to_end takes it away again
                clock, _ = end_to_end(net, film, tmp / "ceiling.mp4", preset=args.preset, **options)
                if label not in best or clock.wall < best[label].wall:
                    best[label] = clock
        network = n / best["network"].wall
        print(f"\n{width}x{height}: {net!r}\n  threads {net.threads}")
        for label, _ in runs:
            ceiling_fps = n / best[label].wall
            print(f"  ceiling, {label:18s} {fps(n, best[label])}  = {ceiling_fps / network:.2f} x the network "
                  f"alone ({network:.2f} frames/s)")
        print("  each stage alone, milliseconds per frame (CPU: all threads' time; best of "
              f"{args.repeat}):")
        for name in (*STAGES, FLOW):
            clock = best[name]
            note = " (part of smooth)" if name == FLOW else ""
            print(f"    {name:8s} {1000 * clock.cpu / n:7.1f} ms CPU  {1000 * clock.wall / n:7.1f} ms wall{note}")
        outside = sum(best[name].cpu for name in STAGES if name != "network")
        print(f"    outside the network {1000 * outside / n:7.1f} ms CPU per frame: at most "
              f"{available_cores() * n / outside:.1f} frames/s on {available_cores()} cores")
        if args.encoders and size == sizes[-1]:
            encoders(args, net, kept["colored"], width, height, tmp)
    return 0


def encoders(args, net: Colorizer, colored: list[np.ndarray], width: int, height: int, tmp: Path) -> None:
    """Each encoder of ``--encoders`` alone on the colorized frames, already in yuv420p.

    A spec is CODEC[:SPEED][@THREADS][xPIECES]: THREADS encoder threads (default: the plan's), and
    the film cut in PIECES encoded at once, as segments joined by packet copy would be. Beside the
    speed, the CPU time of the thread that feeds and muxes each piece (the pipeline's writer): the
    serial part, which more encoder threads do not share out."""
    frames = [av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p") for rgb in colored]
    print(f"  encoders alone on {len(frames)} colorized yuv420p frames (plan: {net.threads.encoder_threads or 'automatic'}"
          " threads):")
    for spec in args.encoders.split(","):
        codec, speed, threads, pieces = re.fullmatch(r"([^:@]+)(?::([^@]+?))?(?:@(\d+))?(?:x(\d+))?", spec).groups()
        pieces, threads = int(pieces or 1), int(threads) if threads else net.threads.encoder_threads
        try:
            settings, _ = EncodeSettings(codec=codec, encoder_preset=speed or None, preset=args.preset).resolve(
                "mp4", tmp / "encoder.mp4", width, height)
        except VidcolorError as e:
            print(f"    {spec:26s} {e}")
            continue
        share = -(-len(frames) // pieces)
        parts = [(tmp / f"encoder{k}.mp4", frames[k * share:(k + 1) * share]) for k in range(pieces)]
        with Clock(torch.device("cpu")) as clock, ThreadPoolExecutor(pieces) as pool:
            feeding = list(pool.map(lambda part: encode_piece(settings, threads, *part) / len(part[1]), parts))
        size = sum(path.stat().st_size for path, _ in parts)
        print(f"    {spec:26s} {fps(len(frames), clock)}; {size / len(frames) / 1024:6.1f} KiB a frame; "
              f"writer thread {1000 * max(feeding):5.1f} ms CPU a frame")


def encode_piece(settings: EncodeSettings, threads: int, path: Path, frames: list[av.VideoFrame]) -> float:
    """Seconds of CPU the calling thread spent: the encoder's other threads not counted."""
    start = time.thread_time()
    with av.open(str(path), "w") as out:
        s = out.add_stream(settings.codec, rate=24, options=settings.options())
        s.height, s.width, s.pix_fmt = frames[0].height, frames[0].width, settings.pix_fmt
        s.codec_context.thread_count = threads
        for i, frame in enumerate(frames):  # each piece's own frames: their times may be set
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return time.thread_time() - start


def memory(args, weights: Path, tmp: Path) -> int:
    if args.memory_frames:
        print("\nPeak memory of a whole run in a fresh process (the model included):")
        runs = {}
        for k in (1, 4):
            path = write_film(tmp / f"mem{k}.mp4", sample_frames(k * args.memory_frames, args.width, args.height))
            runs[k] = peak_memory(args, weights, path, tmp / f"mem{k}_out.mp4")
            gpu = f", GPU {runs[k]['gpu_mb']:.0f} MiB" if runs[k]["gpu_mb"] is not None else ""
            print(f"  {k * args.memory_frames:5d} frames: RSS {runs[k]['rss_mb']:.0f} MiB{gpu}")
        print(f"  four times longer: RSS x {runs[4]['rss_mb'] / runs[1]['rss_mb']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
