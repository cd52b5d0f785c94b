"""Does the chroma smoother remove flicker without washing out or drifting? Printed numbers.

A color clip is turned gray; a "flickering colorizer" gives its true colors plus independent
per-frame errors (global shifts, local blotches, hue changes on regions; see
vidcolor.metrics.flicker). The smoother runs on that color exactly as in the pipeline: on the
model's S x S grid, then upsampled to the frame. Every version is measured with the same
metrics and the same flow: E_warp, CDC, colorfulness, and the ab error to the true colors.

    python benchmarks/temporal_quality.py                      # the clips of ../shared/media
    python benchmarks/temporal_quality.py clip.mp4 --frames 120 --strength 0.5

Also: a static shot (a still with film grain) must not drift, and on two shots joined by a
hard cut, each shot must come out exactly as it does alone (nothing crosses the cut), while a
fade and a dissolve between them must give no cut at all.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from vidcolor import lab
from vidcolor.metrics import Report
from vidcolor.metrics.flicker import flicker
from vidcolor.temporal import DEFAULT_STRENGTH, ChromaSmoother, MotionTracker
from vidcolor.temporal.motion import COLOR_FLOW

SHARED = Path(__file__).resolve().parents[2] / "shared" / "media"
CLIPS = [  # (file, first frame, frames) from ../shared/media/video/color_audio
    ("mdn_flower.mp4", 0, 150),
    ("mdn_stream-of-water.mp4", 0, 94),
    ("moviepy_big_buck_bunny_0_30.webm", 200, 240),  # with two hard cuts, at 283 and 376
]
REGIMES = {
    "strong": {},  # flicker()'s defaults
    "mild": dict(shift=2.0, blotch_amplitude=4.0, regions=3, max_hue_degrees=45.0),
}


def read_frames(path: Path, limit: int, long_side: int, first: int = 0) -> list[np.ndarray]:
    frames = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i < first:
                continue
            rgb = f.to_ndarray(format="rgb24")
            scale = long_side / max(rgb.shape[:2])
            if scale < 1:
                rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                                 interpolation=cv2.INTER_AREA)
            frames.append(rgb)
            if len(frames) == limit:
                break
    return frames


def to_grid(ab: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(ab, (size, size), interpolation=cv2.INTER_AREA) if size else ab


def from_grid(ab: np.ndarray, shape) -> np.ndarray:
    return ab if ab.shape[:2] == shape else lab.upsample_ab(ab, *shape, lab.DEFAULT_UPSAMPLE)


def evaluate(frames, strength, grid, noise, preserve=True, flow_preset="medium") -> tuple[dict, float]:
    """Report for truth, unsmoothed and smoothed color; and smoothing milliseconds per frame.
    The report measures on a flow of its own (DIS medium), whatever flow the smoother runs on."""
    smoother = ChromaSmoother(strength, preserve_chroma=preserve, tracker=MotionTracker(preset=flow_preset))
    report = Report(("truth", "unsmoothed", "smoothed"))
    measure = MotionTracker()
    spent = 0.0

    def items():
        for i, rgb in enumerate(frames):
            L, ab = lab.split(rgb)
            yield L, to_grid(flicker(ab, i, **noise), grid), (i, L, rgb)

    for item in items():
        t0 = time.perf_counter()
        done = smoother.push(*item)
        spent += time.perf_counter() - t0
        for s in done:
            _add(report, measure, s)
    t0 = time.perf_counter()
    rest = smoother.flush()
    spent += time.perf_counter() - t0
    for s in rest:
        _add(report, measure, s)
    return report.to_dict(), 1000 * spent / len(frames)


def _add(report: Report, measure: MotionTracker, s) -> None:
    i, L, rgb = s.tag
    report.add(i / 24, measure.push(L), reference=rgb, truth=rgb,
               unsmoothed=lab.compose(L, from_grid(s.raw, L.shape)),
               smoothed=lab.compose(L, from_grid(s.ab, L.shape)))


def print_clip(name, result, ms, first) -> None:
    m = result["metrics"]
    t, u, s = m["truth"], m["unsmoothed"], m["smoothed"]
    print(f"  {name}: {result['frames']} frames from {first}, {len(result['scene_cuts'])} cut(s) at "
          f"{[first + c['frame'] for c in result['scene_cuts']]}, smoothing {ms:.1f} ms/frame")
    print(f"    {'':12} {'truth':>9} {'unsmoothed':>11} {'smoothed':>9} {'ratio s/u':>9}")
    for key in ("e_warp", "cdc", "colorfulness", "ab_error"):
        tv = "" if t.get(key) is None else f"{t[key]:.5f}"
        ratio = s[key] / u[key] if u[key] else float("nan")
        print(f"    {key:12} {tv:>9} {u[key]:11.5f} {s[key]:9.5f} {ratio:9.3f}")


def static_shot(grid: int, strength: float, frames: int = 48) -> dict:
    """One still with independent film grain in every frame; the true color is constant.

    Given the exact color on every frame, the smoother must give it back (only flow noise from
    the grain may move it, a little, at sharp color edges); given flickering color, it must
    come closer to the truth, and the change must not grow over the shot (no drift).
    """
    path = SHARED / "images/color/skimage/coffee.png"
    still = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    rng = np.random.default_rng(1)
    L0, ab0 = lab.split(still)
    target = to_grid(ab0, grid)
    grainy = [np.clip(L0 + rng.normal(0, 2.0, L0.shape).astype(np.float32), 0, 100) for _ in range(frames)]
    exact = [np.abs(s.ab - target) for s in ChromaSmoother(strength).stream((L, target) for L in grainy)]
    noisy = list(ChromaSmoother(strength).stream((L, to_grid(flicker(ab0, i), grid)) for i, L in enumerate(grainy)))
    quarter = frames // 4
    return {"exact_color_change_mean": float(np.mean(exact)),
            "exact_color_change_p99": float(np.percentile(np.stack(exact), 99)),
            "exact_color_change_mean_first_quarter": float(np.mean(exact[:quarter])),
            "exact_color_change_mean_last_quarter": float(np.mean(exact[-quarter:])),
            "ab_error_unsmoothed": float(np.mean([np.linalg.norm(s.raw - target, axis=2).mean() for s in noisy])),
            "ab_error_smoothed": float(np.mean([np.linalg.norm(s.ab - target, axis=2).mean() for s in noisy]))}


def transitions(grid: int, strength: float) -> dict:
    """Two shots (flower, water) joined by a cut, a fade through black, and a dissolve."""
    a = read_frames(SHARED / "video/color_audio/mdn_flower.mp4", 36, 480)
    h, w = a[0].shape[:2]
    b = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
         for f in read_frames(SHARED / "video/color_audio/mdn_stream-of-water.mp4", 36, 480)]

    def smooth(frames, start=0):
        items = []
        for i, rgb in enumerate(frames):
            L, ab = lab.split(rgb)
            items.append((L, to_grid(flicker(ab, start + i), grid)))
        return list(ChromaSmoother(strength).stream(items))

    joined = smooth(a + b)
    alone_a, alone_b = smooth(a), smooth(b, start=len(a))
    leak = max(np.abs(j.ab - s.ab).max() for j, s in zip(joined, alone_a + alone_b))
    cuts = [i for i, s in enumerate(joined) if s.step.cut]

    n = 24
    fade = a[:-n // 2] + [(f * (1 - k / (n // 2))).astype(np.uint8) for k, f in enumerate(a[-n // 2:])] + \
           [(f * (k / (n // 2))).astype(np.uint8) for k, f in enumerate(b[:n // 2])] + b[n // 2:]
    dissolve = a[:-n] + [cv2.addWeighted(x, 1 - (k + 1) / (n + 1), y, (k + 1) / (n + 1), 0)
                         for k, (x, y) in enumerate(zip(a[-n:], b[:n]))] + b[n:]

    def cut_frames(frames):  # as the smoother finds them
        tracker = MotionTracker(preset=COLOR_FLOW)
        return [i for i, f in enumerate(frames) if tracker.push(lab.split(f)[0]).cut]

    return {"cut_found_at": cuts, "cut_expected_at": len(a), "max_ab_difference_from_shots_alone": float(leak),
            "cuts_in_fade": cut_frames(fade), "cuts_in_dissolve": cut_frames(dissolve)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("clips", nargs="*", type=Path)
    p.add_argument("--frames", type=int, help="frames per clip")
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH)
    p.add_argument("--grid", type=int, default=512, help="model grid the ab is smoothed on (0: full size)")
    p.add_argument("--long-side", type=int, default=1280, help="downscale frames to this long side")
    p.add_argument("--regimes", default="strong,mild")
    p.add_argument("--no-preserve-chroma", action="store_true")
    p.add_argument("--flow-preset", default=COLOR_FLOW, choices=("ultrafast", "fast", "medium"),
                   help="DIS preset of the smoother's flow (the measurements always use medium)")
    p.add_argument("--json", type=Path, help="also write every number here")
    args = p.parse_args()
    clips = [(c, 0, args.frames or 10**9) for c in args.clips] or \
            [(SHARED / "video/color_audio" / name, first, args.frames or n) for name, first, n in CLIPS]
    missing = [str(c) for c, _, _ in clips if not c.is_file()]
    if missing:
        print(f"missing clips: {', '.join(missing)}", file=sys.stderr)
        return 1
    out = {"strength": args.strength, "grid": args.grid, "clips": {}}
    for regime in args.regimes.split(","):
        print(f"flicker regime '{regime}': {REGIMES[regime] or 'defaults'}; strength {args.strength}, grid {args.grid}")
        for path, first, n in clips:
            frames = read_frames(path, n, args.long_side, first)
            result, ms = evaluate(frames, args.strength, args.grid, REGIMES[regime], not args.no_preserve_chroma,
                                  args.flow_preset)
            print_clip(f"{path.name} ({frames[0].shape[1]}x{frames[0].shape[0]})", result, ms, first)
            out["clips"][f"{regime}/{path.name}"] = {"ms_per_frame": ms, **result}
    if SHARED.is_dir():
        out["static_shot"] = static_shot(args.grid, args.strength)
        print("static shot (coffee.png + grain):", json.dumps(out["static_shot"]))
        out["transitions"] = transitions(args.grid, args.strength)
        print("cut, fade and dissolve:", json.dumps(out["transitions"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
