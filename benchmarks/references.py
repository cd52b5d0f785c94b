"""Do references make the colors true? The ab error to the truth, with and without them.

Real color clips (``../shared/media``), one 24-frame shot from each, joined with hard cuts and
turned gray; a "plausible but consistently wrong" colorizer (``vidcolor.metrics.wrong_colors``:
per shot, each object's true color replaced by a wrong one that stays the same over the shot,
plus mild flicker) stands in for the model. Measured against the true colors, over every frame:

- the prediction as given;
- with the true first frame of each shot as its keyframe (over the shot, and its last 4 frames);
- with 20 color hints on each shot's first frame (points around the centre, each the mean true
  color of a 1 to 9 pixel patch);
- with a partial keyframe (the first frame's central half opaque), inside that region;
- with a keyframe in the first shot only: how far the other shots move (nothing may cross a cut);
- with a keyframe equal to the prediction's own colors: how far anything moves;
- flicker (mean ab change between consecutive frames along the trusted flow);
- the cost per 1080p frame (chroma on the model's 512 x 512 grid) beside the flow, which the smoother
  takes from the references (one flow for both), on one core; and, where the frames are guided on
  the plan's threads, what stays on the calling thread and what the keyframe's carry from frame
  to frame costs (in order, on a thread of its own).

``--flow-presets fast,medium``: all of it along each of DIS's presets, to compare them.

    python benchmarks/references.py
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from vidcolor import lab
from vidcolor.metrics.wrong_colors import WrongColors
from vidcolor.temporal import MotionTracker
from vidcolor.temporal.flow import positions, sample
from vidcolor.temporal.motion import COLOR_FLOW
from vidcolor.stages import Workers
from vidcolor.temporal.references import ChromaGuide, _carry, guide as guide_along

SHARED = Path(__file__).resolve().parents[2] / "shared" / "media" / "video" / "color_audio"
SHOTS = [("mdn_flower.mp4", 0), ("mdn_stream-of-water.mp4", 0), ("moviepy_big_buck_bunny_0_30.webm", 400)]
SHOT_FRAMES = 24
TAIL = 4  # "the last frames of a shot"
HINTS = 20  # color points on each shot's first frame


def read_shot(path: Path, first: int, n: int, size: tuple[int, int]) -> list[np.ndarray]:
    frames = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= first:
                frames.append(cv2.resize(f.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA))
            if len(frames) == n:
                break
    return frames


def film(size=(480, 270), folder: Path = SHARED):
    """(true RGB frames, L, true ab, predicted ab, shot starts) of the joined shots."""
    rgb, starts = [], []
    for name, first in SHOTS:
        starts.append(len(rgb))
        rgb += read_shot(folder / name, first, SHOT_FRAMES, size)
    L, ab = map(np.stack, zip(*(lab.split(f) for f in rgb)))
    pred = np.empty_like(ab)
    for s, start in enumerate(starts):
        wrong = WrongColors(ab[start], seed=s)
        for t in range(start, start + SHOT_FRAMES):
            pred[t] = wrong(ab[t], t)
    return rgb, L, ab, pred, starts


def error(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = np.linalg.norm(a - b, axis=-1)
    return float(d.mean()) if mask is None else float(d[..., mask].mean())


def flicker(L: np.ndarray, ab: np.ndarray) -> float:
    """Mean ab change from each frame to the next along the trusted flow (within shots)."""
    tracker, total, weight = MotionTracker(), 0.0, 0.0
    for t, frame in enumerate(L):
        step = tracker.push(frame)
        if step.pair is None:
            continue
        back = sample(ab[t - 1], *positions(step.pair.bw))
        trust = step.pair.trust_bw
        total += float((np.linalg.norm(ab[t] - back, axis=-1) * trust).sum())
        weight += float(trust.sum())
    return total / weight


def with_colors(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """An RGB keyframe of lightness L and chroma ab."""
    return lab.compose(L, ab)


def hints_from(rgb: np.ndarray, seed: int, n: int = HINTS) -> list[dict]:
    """``n`` color points around the centre of a frame, each the mean true color of a 1 to 9 pixel patch."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    hints = []
    for _ in range(n):
        x = int(np.clip(rng.normal(w / 2, w / 5), 1, w - 2))
        y = int(np.clip(rng.normal(h / 2, h / 5), 1, h - 2))
        r = int(rng.integers(0, 2))  # a 1x1 or 3x3 patch
        patch = rgb[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3).mean(axis=0)
        hints.append({"x": x, "y": y, "color": [int(round(c)) for c in patch], "radius": r + 1})
    return hints


def central_half(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    ch, cw = round(h / 2 ** 0.5), round(w / 2 ** 0.5)
    mask[(h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw] = True
    return mask


def measure(rgb, L, ab, pred, starts, preset: str = COLOR_FLOW) -> dict:
    def guide(*args):
        return guide_along(*args, flow_preset=preset)

    n = len(L)
    shots = [range(s, s + SHOT_FRAMES) for s in starts]
    tails = [t for shot in shots for t in shot[-TAIL:]]
    m = {"prediction": error(pred, ab), "prediction_tail": error(pred[tails], ab[tails])}
    keyed, m["reach_keyframes"] = guide(L, pred, {s: rgb[s] for s in starts})
    m["keyframes"], m["keyframes_tail"] = error(keyed, ab), error(keyed[tails], ab[tails])
    hinted = guide(L, pred, {s: hints_from(rgb[s], seed=s) for s in starts})[0]
    m["hints"], m["hints_tail"] = error(hinted, ab), error(hinted[tails], ab[tails])
    mask = central_half(*L.shape[1:])
    partial = {}
    for s in starts:
        rgba = np.dstack([rgb[s], np.where(mask, 255, 0).astype(np.uint8)])
        partial[s] = rgba
    part = guide(L, pred, partial)[0]
    m["partial_inside"], m["prediction_inside"] = error(part, ab, mask), error(pred, ab, mask)
    m["partial_moved_inside"], m["partial_moved_outside"] = error(part, pred, mask), error(part, pred, ~mask)
    first_only = guide(L, pred, {starts[0]: rgb[starts[0]]})[0]
    rest = slice(starts[1], n)
    m["first_shot_only_elsewhere"] = error(first_only[rest], pred[rest])
    m["first_shot_only_own"] = error(first_only[: starts[1]], ab[: starts[1]])
    m["prediction_own"] = error(pred[: starts[1]], ab[: starts[1]])
    same = guide(L, pred, {s: with_colors(L[s], pred[s]) for s in starts})[0]
    m["own_colors_change"] = error(same, pred)
    m["flicker_prediction"], m["flicker_keyframes"] = flicker(L, pred), flicker(L, keyed)
    m["flicker_truth"] = flicker(L, ab)
    return m


def cost(folder: Path = SHARED, frames: int = 24, preset: str = COLOR_FLOW) -> tuple[float, ...]:
    """Milliseconds per 1080p frame on one core, 512 grid, one keyframe: the flow alone, guiding beyond
    it, of that what stays on the calling thread where the frames are guided on workers, and the
    keyframe's carry from frame to frame (in order, on a thread of its own)."""
    cv2.setNumThreads(1)
    rgb = read_shot(folder / SHOTS[0][0], 0, frames, (1920, 1080))
    L = np.stack([lab.split(f)[0] for f in rgb])
    ab = np.stack([cv2.resize(lab.split(f)[1], (512, 512), interpolation=cv2.INTER_AREA) for f in rgb])
    tracker = MotionTracker(preset=preset)
    t = time.thread_time()
    steps = [tracker.push(frame) for frame in L]
    flow = time.thread_time() - t

    def guiding(workers=None) -> float:
        """CPU seconds of this thread guiding the frames."""
        g = ChromaGuide({0: rgb[0]}, look_back=frames, workers=workers)
        t = time.thread_time()
        for i in range(frames):
            g.push(L[i], ab[i], i, step=steps[i])
        g.flush()
        return time.thread_time() - t

    def chain() -> float:
        carried = np.zeros((512, 512, 6), np.float32)
        t = time.thread_time()
        for step in steps[1:]:
            carried = _carry(carried, step.pair.bw, step.pair.trust_bw)
        return time.thread_time() - t

    workers = Workers(2, "guide")
    alone, caller, carry = (min(runs) for runs in zip(*((guiding(), guiding(workers), chain()) for _ in range(3))))
    workers.close()
    return tuple(1000 * x / frames for x in (flow, alone, caller, carry))  # best of 3

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED, help="the folder of the color clips")
    parser.add_argument("--flow-presets", default=COLOR_FLOW, help="DIS presets to carry the references along, "
                        f"comma-separated (default: {COLOR_FLOW}, vidcolor's)")
    args = parser.parse_args()
    if not all((args.media / name).is_file() for name, _ in SHOTS):
        print(f"needs {', '.join(n for n, _ in SHOTS)} in {args.media}", file=sys.stderr)
        return 2
    data = film(folder=args.media)
    for preset in args.flow_presets.split(","):
        print(f"== along DIS {preset}")
        report(measure(*data, preset=preset), *cost(args.media, preset=preset))
    return 0


def report(m: dict, flow_ms: float, guide_ms: float, caller_ms: float, carry_ms: float) -> None:
    p = m["prediction"]
    rows = [
        ("prediction as given", m["prediction"], 1.0),
        ("keyframe on each shot's first frame, whole shots", m["keyframes"], m["keyframes"] / p),
        (f"  the last {TAIL} frames of each shot", m["keyframes_tail"], m["keyframes_tail"] / m["prediction_tail"]),
        (f"{HINTS} color hints on each shot's first frame", m["hints"], m["hints"] / p),
        (f"  the last {TAIL} frames of each shot", m["hints_tail"], m["hints_tail"] / m["prediction_tail"]),
        ("partial keyframe (central half), inside it", m["partial_inside"],
         m["partial_inside"] / m["prediction_inside"]),
        ("keyframe in the first shot only: that shot", m["first_shot_only_own"],
         m["first_shot_only_own"] / m["prediction_own"]),
    ]
    print(f"{len(SHOTS)} shots of {SHOT_FRAMES} frames at 480x270, joined with cuts; ab error to the true colors")
    print(f"{'':<52}{'ab error':>9}{'ratio':>8}")
    for name, value, ratio in rows:
        print(f"{name:<52}{value:>9.2f}{ratio:>8.3f}")
    print(f"partial keyframe: it moves the colors inside its region by {m['partial_moved_inside']:.2f} ab units, "
          f"outside by {m['partial_moved_outside']:.2f}")
    print(f"keyframe in the first shot only: the other shots move {m['first_shot_only_elsewhere']:.3f} ab units")
    print(f"keyframes equal to the prediction's own colors: everything moves {m['own_colors_change']:.3f} ab units")
    print(f"flicker (ab change along the flow): prediction {m['flicker_prediction']:.3f}, "
          f"with keyframes {m['flicker_keyframes']:.3f} (the true colors' own {m['flicker_truth']:.3f})")
    print(f"reach of the keyframes (share of pixels held), per frame: min {m['reach_keyframes'].min():.2f}, "
          f"mean {m['reach_keyframes'].mean():.2f}")
    print(f"cost per 1080p frame on one core (512 grid, one keyframe): flow {flow_ms:.0f} ms (the smoother takes it), "
          f"guiding {guide_ms:.0f} ms beyond it; in a run, {caller_ms:.0f} ms of it on the calling thread, the carry "
          f"from frame to frame ({carry_ms:.0f} ms) in order on a thread of its own, the rest on the plan's threads")

if __name__ == "__main__":
    sys.exit(main())
