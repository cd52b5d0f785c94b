"""The temporal-quality metrics against values worked out by hand, and on clips with known motion."""
import math

import numpy as np

from media_factory import color_texture, decoded_rgb, translate, write_frames
from vidcolor import lab
from vidcolor.metrics import CDC, Report, colorfulness
from vidcolor.metrics.flicker import flicker
from vidcolor.temporal import MotionTracker


def test_colorfulness_by_hand():
    assert colorfulness(np.full((8, 8, 3), 128, np.uint8)) == 0.0
    # Half pure red, half pure green: |R-G| = 255 and |(R+G)/2 - B| = 127.5 everywhere, no spread.
    img = np.zeros((4, 8, 3), np.uint8)
    img[:, :4, 0] = 255
    img[:, 4:, 1] = 255
    assert math.isclose(colorfulness(img), 0.3 * math.hypot(255, 127.5), rel_tol=1e-12)
    # Half red, half gray: rg is 255 or 0 (std 127.5, mean 127.5), yb is 127.5 or 0.
    img[:, 4:] = 0
    expected = math.hypot(127.5, 63.75) + 0.3 * math.hypot(127.5, 63.75)
    assert math.isclose(colorfulness(img), expected, rel_tol=1e-12)


def test_cdc_by_hand():
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    cdc = CDC()
    for frame in [black, white] * 4:
        cdc.update(frame)
    # Disjoint histograms at distance 1 (JS = ln 2), identical ones at distances 2 and 4.
    assert math.isclose(cdc.value, math.log(2) / 3, rel_tol=1e-6)
    steady = CDC()
    for _ in range(6):
        steady.update(white)
    assert steady.value == 0.0


def run_report(frames, colored, reference=None):
    tracker = MotionTracker()
    report = Report(tuple(colored))
    for i, rgb in enumerate(frames):
        step = tracker.push(lab.split(rgb)[0])
        report.add(i / 24, step, reference=None if reference is None else reference[i],
                   **{name: v[i] for name, v in colored.items()})
    return report.to_dict()


def test_warping_error_of_consistent_color_is_near_zero_and_flicker_is_not(tmp_path):
    base = color_texture(200, 140, seed=1)
    clip = decoded_rgb(write_frames(tmp_path / "pan.mp4", [translate(base, 2 * i, i) for i in range(10)]))
    flickering = []
    for i, rgb in enumerate(clip):
        L, ab = lab.split(rgb)
        flickering.append(lab.compose(L, flicker(ab, i)))
    result = run_report(clip, {"true": clip, "flickering": flickering}, reference=clip)
    true, flick = result["metrics"]["true"], result["metrics"]["flickering"]
    assert true["warp_pairs"] == flick["warp_pairs"] == 9
    assert true["e_warp"] < 2e-4
    assert flick["e_warp"] > 20 * true["e_warp"]
    assert true["ab_error"] == 0.0 and flick["ab_error"] > 3.0
    assert flick["cdc"] > 5 * true["cdc"]
    assert result["scene_cuts"] == [] and result["untrusted_frames"] == []
    assert set(result["definitions"]) == {"e_warp", "cdc", "colorfulness", "ab_error"}


def test_pairs_across_a_cut_are_left_out_and_the_cut_is_listed(tmp_path):
    a, b = color_texture(200, 140, seed=2), color_texture(200, 140, seed=6)
    frames = [translate(a, i, 0) for i in range(6)] + [translate(b, -i, 0) for i in range(6)]
    clip = decoded_rgb(write_frames(tmp_path / "cut.mp4", frames))
    result = run_report(clip, {"colorized": clip})
    assert [c["frame"] for c in result["scene_cuts"]] == [6]
    assert result["scene_cuts"][0]["time"] == 0.25
    assert result["metrics"]["colorized"]["warp_pairs"] == 10
    assert result["metrics"]["colorized"]["e_warp"] < 2e-4
