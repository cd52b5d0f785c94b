"""What glibc's allocation policy costs a run: CPU time (the kernel's share) and resident memory.

Each policy runs the whole pipeline once, in a fresh process, on the same synthetic film:

- ``arenas``: vidcolor's (``vidcolor/memory.py``): two malloc arenas for the whole process;
- ``mmap``: the policy before it: every allocation of 1 MiB or more on an mmap of its own;
- ``glibc``: glibc's defaults (an arena per thread that allocates, up to eight per core).

Printed per policy: frames/s, user and kernel CPU milliseconds a frame, page faults a frame,
peak RSS and the RSS at each quarter of the run (a long film must stay flat), and peak GPU memory. ``--stand-in``
replaces the network by an instant stand-in returning natural color (the pipeline's own
allocations, as ``throughput.py --ceiling``); ``--gpu-plan`` gives the CPU the GPU plan's
workers (4 frames prepared and finished at once, 8 smoothed) with the device steps in torch.

    python benchmarks/investigations/malloc_policy.py --stand-in --width 1920 --height 1080 --frames 96
    python benchmarks/investigations/malloc_policy.py --device cuda --arch large --size 512 --precision bf16 --frames 192
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks/common.py
from common import ARCHS, natural_ab, random_weights, sample_frames, write_film  # noqa: E402

POLICIES = ("arenas", "mmap", "glibc")
M_MMAP_THRESHOLD, MMAP_THRESHOLD = -3, 1 << 20  # mallopt(3): the policy before


def child(a: argparse.Namespace) -> int:
    """One run under ``a.policy``, set before any of the run's threads start; its numbers as JSON."""
    from vidcolor import memory
    from vidcolor.run import film as film_run

    if a.policy != "arenas":
        film_run.share_malloc_arenas = lambda: False
        if a.policy == "mmap":
            memory._mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    import torch
    from throughput import peak_rss_mb, stand_in
    from vidcolor import Colorizer, colorize_video
    from vidcolor.threads import apply as apply_threads

    layout = {"lab_on_device": True, "smooth_on_device": True} if a.gpu_plan else {}
    net = Colorizer(weights=a.weights, device=a.device, input_size=a.size, precision=a.precision, progress=False,
                    **layout)
    if a.gpu_plan:
        net.threads = dataclasses.replace(net.threads, color_workers=4, smooth_workers=8, encoder_threads=0)
        apply_threads(net.threads)
    if a.stand_in:
        net.infer = stand_in(natural_ab(24, net.input_size, net.input_size))
    samples: list[int] = []

    def sample_rss() -> None:
        while True:
            samples.append(rss_mb())
            time.sleep(0.25)
    threading.Thread(target=sample_rss, daemon=True).start()
    before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    summary = colorize_video(a.film, a.out, colorizer=net, overwrite=True, quiet=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    n = summary.frames
    gpu = torch.cuda.max_memory_allocated(net.device) / 2**20 if net.device.type == "cuda" else None
    print(json.dumps({
        "fps": n / wall,
        "user_ms": 1000 * (after.ru_utime - before.ru_utime) / n,
        "sys_ms": 1000 * (after.ru_stime - before.ru_stime) / n,
        "faults": (after.ru_minflt - before.ru_minflt) / n,
        "peak_mb": round(peak_rss_mb()),
        "quarters": [samples[max(0, round(len(samples) * q) - 1)] for q in (0.25, 0.5, 0.75, 1.0)],
        "gpu_mb": gpu,
    }))
    return 0


def rss_mb() -> int:
    """This process's resident memory now, in MiB (its peak: ``throughput.peak_rss_mb``)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) // 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="tiny")
    p.add_argument("--size", type=int, default=256, help="model input size")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--frames", type=int, default=240)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--policies", default=",".join(POLICIES), help="of " + ", ".join(POLICIES))
    p.add_argument("--stand-in", action="store_true", help="an instant stand-in for the network")
    p.add_argument("--gpu-plan", action="store_true", help="the GPU plan's workers, the device steps in torch")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--policy", help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    p.add_argument("--film", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(a)
    tmp = Path(tempfile.mkdtemp(prefix="vidcolor-malloc-"))
    weights = random_weights(a.arch, tmp)
    # 48 distinct frames, repeated: the film is long without keeping all of it in memory here.
    frames = sample_frames(min(48, a.frames), a.width, a.height)
    film = write_film(tmp / "film.mp4", [frames[i % len(frames)] for i in range(a.frames)])
    print(f"{a.frames} frames of {a.width}x{a.height}, {ARCHS[a.arch]} at {a.size} on {a.device}"
          f"{', network stood in for' if a.stand_in else ''}{', the GPU plan' if a.gpu_plan else ''}; "
          "each policy in a fresh process")
    for policy in a.policies.split(","):
        if policy not in POLICIES:
            raise SystemExit(f"unknown policy {policy!r}: one of {', '.join(POLICIES)}")
        cmd = [sys.executable, __file__, "--child", "--policy", policy, "--weights", str(weights), "--film",
               str(film), "--out", str(tmp / "out.mp4"), "--device", a.device, "--size", str(a.size),
               "--precision", a.precision] + ["--stand-in"] * a.stand_in + ["--gpu-plan"] * a.gpu_plan
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode:
            raise SystemExit(f"the {policy} run failed")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        gpu = f"; GPU peak {r['gpu_mb']:.0f} MiB" if r["gpu_mb"] is not None else ""
        print(f"  {policy:7s} {r['fps']:6.2f} frames/s; per frame CPU {r['user_ms']:6.1f} ms user, {r['sys_ms']:6.1f} ms "
              f"kernel, {r['faults']:7.0f} page faults; RSS peak {r['peak_mb']} MiB, at each quarter {r['quarters']}{gpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
