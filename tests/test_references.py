"""References: keyframes (whole or partial) that a shot follows, measured on real clips colorized
by a "plausible but consistently wrong" colorizer (vidcolor.metrics.wrong_colors)."""
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidcolor import VidcolorError, guide_chroma, lab
from vidcolor.metrics.wrong_colors import WrongColors
from vidcolor.temporal.references import ChromaGuide, guide

ROOT = Path(__file__).resolve().parents[1]
WATER = ROOT / "samples" / "stream_of_water.mp4"
COLOR = ROOT.parent / "shared" / "media" / "video" / "color_audio"


def frames_of(path: Path, n: int, size=(240, 180), first: int = 0) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= first:
                out.append(cv2.resize(f.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA))
            if len(out) == n:
                return out
    return out


def wrongly_colored(rgb: list[np.ndarray], starts: list[int], seed: int = 0):
    """(L, true ab, predicted ab): each shot (from each start) consistently wrong, mildly flickering."""
    L, ab = map(np.stack, zip(*(lab.split(f) for f in rgb)))
    pred = np.empty_like(ab)
    for s, (start, end) in enumerate(zip(starts, starts[1:] + [len(rgb)])):
        wrong = WrongColors(ab[start], seed=seed + s)
        for t in range(start, end):
            pred[t] = wrong(ab[t], t)
    return L, ab, pred


def error(a, b, mask=None) -> float:
    d = np.linalg.norm(a - b, axis=-1)
    return float(d.mean() if mask is None else d[..., mask].mean())


@pytest.fixture(scope="module")
def water():
    rgb = frames_of(WATER, 24)
    return (rgb, *wrongly_colored(rgb, [0]))


def test_a_keyframe_makes_the_whole_shot_follow_it(water):
    rgb, L, ab, pred = water
    before = error(pred, ab)
    assert before > 10  # the stand-in is badly wrong
    for key in (0, 12, 23):  # at the start, in the middle (the frames before follow too), at the end
        guided = guide_chroma(L, pred, {key: rgb[key]})
        assert error(guided, ab) <= 0.45 * before, key
        far = slice(-4, None) if key == 0 else slice(0, 4)
        assert error(guided[far], ab[far]) <= 0.70 * error(pred[far], ab[far]), key


def test_a_partial_keyframe_corrects_its_region(water):
    rgb, L, ab, pred = water
    h, w = L.shape[1:]
    region = np.zeros((h, w), bool)
    region[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = True
    rgba = np.dstack([rgb[0], np.where(region, 255, 0).astype(np.uint8)])
    guided = guide_chroma(L, pred, {0: rgba})
    assert error(guided, ab, region) <= 0.60 * error(pred, ab, region)
    # What the keyframe left transparent is not its to change: outside, far less moves.
    assert error(guided, pred, ~region) <= 0.5 * error(guided, pred, region)


def test_a_keyframe_of_the_models_own_colors_changes_next_to_nothing(water):
    rgb, L, ab, pred = water
    own = lab.compose(L[5], pred[5])
    assert error(guide_chroma(L, pred, {5: own}), pred) < 1.0


def test_nothing_crosses_a_cut_and_flicker_does_not_grow(water):
    if not (COLOR / "mdn_flower.mp4").is_file():
        pytest.skip("../shared is not present")
    other = frames_of(COLOR / "mdn_flower.mp4", 24)
    rgb = water[0] + other
    L, ab, pred = wrongly_colored(rgb, [0, 24])
    guided, reach = guide(L, pred, {0: rgb[0]})
    assert error(guided[24:], pred[24:]) < 0.5  # the second shot is the prediction's
    assert (reach[24:] == 0).all() and reach[:24].min() > 0.5
    assert flicker(L, guided) <= flicker(L, pred)


def flicker(L, ab) -> float:
    from vidcolor.temporal import MotionTracker
    from vidcolor.temporal.flow import positions, sample

    tracker, total, weight = MotionTracker(), 0.0, 0.0
    for t, frame in enumerate(L):
        step = tracker.push(frame)
        if step.pair is not None:
            back = sample(ab[t - 1], *positions(step.pair.bw))
            total += float((np.linalg.norm(ab[t] - back, axis=-1) * step.pair.trust_bw).sum())
            weight += float(step.pair.trust_bw.sum())
    return total / weight


def test_streaming_reaches_back_only_as_far_as_it_waits(water):
    rgb, L, ab, pred = water
    g = ChromaGuide({20: rgb[20]}, look_back=5)
    out = {}
    for t in range(24):
        for done in g.push(L[t], pred[t], t, tag=t):
            out[done.tag] = done.ab
            assert done.tag <= t  # in order, never ahead of what was pushed
    for done in g.flush():
        out[done.tag] = done.ab
    assert sorted(out) == list(range(24))
    assert all(np.array_equal(out[t], pred[t]) for t in range(15))  # beyond its reach: the model's own
    assert all(error(out[t], ab) < 0.6 * error(pred[t], ab) for t in range(15, 24))
    # The same keyframe with the whole shot in reach is guide_chroma's result.
    whole = guide_chroma(L, pred, {20: rgb[20]})
    assert np.allclose(whole[15:], np.stack([out[t] for t in range(15, 24)]), atol=1e-4)


def test_frames_guided_on_several_threads_are_those_guided_one_at_a_time(water):
    """Keyframes at 3 and 17 (frames 4-16 wait for the second, and take both), hints at 9: each frame
    guided on a worker, four at once, comes back in order with the colors and reach of one at a time."""
    from vidcolor.stages import Workers

    rgb, L, ab, pred = water
    refs = {3: rgb[3], 17: rgb[17], 9: [{"x": 120, "y": 90, "color": [int(c) for c in rgb[9][90, 120]], "radius": 6}]}

    def run(workers=None):
        g = ChromaGuide(refs, workers=workers)
        out = [d for t in range(24) for d in g.push(L[t], pred[t], t, tag=t)] + g.flush()
        return out

    workers = Workers(4, "guide")
    one, many = run(), run(workers)
    workers.close()
    assert [d.tag for d in many] == [d.tag for d in one] == list(range(24))
    assert all(np.array_equal(a.ab, b.ab) and a.reach == b.reach for a, b in zip(one, many))
    assert error(np.stack([d.ab for d in many]), ab) < 0.5 * error(pred, ab)


def test_bad_references_are_named(water):
    rgb, L, ab, pred = water
    square = cv2.resize(rgb[0], (180, 180))
    with pytest.raises(VidcolorError, match=r"reference for frame 0: 180x180 is not of the film's aspect ratio"):
        guide_chroma(L, pred, {0: square})
    with pytest.raises(VidcolorError, match="the clip has frames 0 to 23"):
        guide_chroma(L, pred, {24: rgb[0]})
    # Any size of the same aspect is fine: only its chroma counts.
    half = cv2.resize(rgb[0], (120, 90), interpolation=cv2.INTER_AREA)
    assert error(guide_chroma(L, pred, {0: half}), ab) <= 0.45 * error(pred, ab)


def test_twenty_color_hints_on_the_first_frame(water):
    rgb, L, ab, pred = water
    rng = np.random.default_rng(1)
    h, w = L.shape[1:]
    hints = []
    for _ in range(20):
        x, y = int(np.clip(rng.normal(w / 2, w / 5), 1, w - 2)), int(np.clip(rng.normal(h / 2, h / 5), 1, h - 2))
        hints.append({"x": x, "y": y, "color": [int(c) for c in rgb[0][y, x]], "radius": 1})
    guided = guide_chroma(L, pred, {0: hints})
    assert error(guided, ab) <= 0.80 * error(pred, ab)
    with pytest.raises(VidcolorError, match=r"hints for frame 0: hint 1: \(999, 5\) is outside the 240x180 frame"):
        guide_chroma(L, pred, {0: [{"x": 999, "y": 5, "color": "#ff0000"}]})
