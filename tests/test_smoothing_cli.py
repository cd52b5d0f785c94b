"""Smoothing in the main path, --report, and `vidcolor eval`, through the real CLI and API."""
import json

import cv2
import numpy as np
import pytest

from media_factory import color_texture, decoded_rgb, frame_times, translate, write_frames, write_video

LOSSLESS = ("--codec", "libx264rgb", "--pix-fmt", "rgb24", "--crf", "0")


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("in") / "film.mp4", width=96, height=64, frames=30, fps=24)


@pytest.fixture(scope="module")
def two_shots(tmp_path_factory):
    """Gray footage with a hard cut at 0.5 s (frame 12 of 24 at 24 fps)."""
    a, b = color_texture(128, 96, seed=4), color_texture(128, 96, seed=5)
    frames = [translate(a, i, 0) for i in range(12)] + [translate(b, 0, 0.5 * i) for i in range(12)]
    gray = [np.repeat(f.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2) for f in frames]
    return write_frames(tmp_path_factory.mktemp("cut") / "cut.mp4", gray)


def test_report_has_both_versions_and_smoothing_steadies_the_color(cli, film, tmp_path):
    out, report = tmp_path / "out.mp4", tmp_path / "report.json"
    code, output = cli(film, "-o", out, "--report", report, *LOSSLESS)
    assert code == 0, output
    data = json.loads(report.read_text())
    assert data["frames"] == 30 and data["smooth_strength"] == 0.5
    assert data["input"] == str(film) and data["output"] == str(out)
    assert data["scene_cuts"] == []
    raw, smoothed = data["metrics"]["unsmoothed"], data["metrics"]["smoothed"]
    assert raw["warp_pairs"] == smoothed["warp_pairs"] == 29
    assert 0 < smoothed["e_warp"] < raw["e_warp"]
    assert smoothed["cdc"] <= raw["cdc"]
    # A random-weights model flickers wildly; colorfulness on real footage is held in test_temporal.
    assert smoothed["colorfulness"] > 0.8 * raw["colorfulness"] > 0
    assert frame_times(out) == frame_times(film)

    # `vidcolor eval` on the (lossless) output measures the same thing the run reported.
    code, output = cli("eval", film, out, "--report", tmp_path / "eval.json", weights=False)
    assert code == 0, output
    assert "e_warp" in output and "scene cuts: 0" in output
    measured = json.loads((tmp_path / "eval.json").read_text())
    assert measured["frames"] == 30
    for key in ("e_warp", "cdc", "colorfulness"):
        assert measured["metrics"]["colorized"][key] == pytest.approx(smoothed[key], rel=1e-6)


def test_no_smooth_gives_each_frames_own_color_and_smoothing_keeps_lightness(cli, colorizer, film, tmp_path):
    runs = {}
    for name, args in [("off", ["--no-smooth"]), ("zero", ["--smooth-strength", "0"]), ("on", [])]:
        runs[name] = tmp_path / f"{name}.mp4"
        code, output = cli(film, "-o", runs[name], *LOSSLESS, *args)
        assert code == 0, output
    off, zero, on = (np.stack(decoded_rgb(runs[k])) for k in ("off", "zero", "on"))
    assert np.array_equal(off, zero)
    per_frame = np.stack([colorizer.colorize(f) for f in decoded_rgb(film)])
    assert np.abs(off.astype(int) - per_frame).max() <= 1
    assert np.abs(on.astype(int) - off).mean() > 0.2  # smoothing changed the color ...
    assert np.abs(lightness(on) - lightness(off)).mean() < 0.5  # ... not the picture


@pytest.mark.slow  # about 13 s; tests/test_temporal.py compares the two blends frame by frame
def test_smoothing_on_the_device_agrees_with_the_cpu(cli, film, tmp_path):
    """--smooth-on-device runs torch's blend (on the CPU here, as it would on a GPU; the default on
    the CPU is OpenCV's, test_lab_torch.py). Issue 22: within 0.5 ab units on average."""
    runs = {}
    for name, args in [("cpu", ["--smooth-on-cpu"]), ("device", ["--smooth-on-device"]), ("off", ["--no-smooth"])]:
        runs[name] = tmp_path / f"{name}.mp4"
        code, output = cli(film, "-o", runs[name], *LOSSLESS, *args)
        assert code == 0, output
    cpu, device, off = (np.stack(decoded_rgb(runs[k])) for k in ("cpu", "device", "off"))
    assert np.abs(chroma(cpu) - chroma(off)).mean() > 1  # smoothed: there is something to agree on
    assert np.abs(chroma(device) - chroma(cpu)).mean() < 0.5
    assert np.abs(device.astype(int) - cpu).max() <= 3


def chroma(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 1:] for f in frames])


def lightness(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2Lab)[..., 0] for f in frames]).astype(int)


def test_scene_cut_is_reported_on_the_output_clock(colorizer, two_shots, tmp_path):
    from vidcolor import colorize_video

    summary = colorize_video(two_shots, tmp_path / "o.mp4", colorizer=colorizer, quiet=True,
                             report=tmp_path / "r.json")
    assert summary.frames == 24 and summary.scene_cuts == [0.5]
    data = json.loads((tmp_path / "r.json").read_text())
    assert [(c["frame"], c["time"]) for c in data["scene_cuts"]] == [(12, 0.5)]
    assert data["metrics"]["smoothed"]["warp_pairs"] == 22


@pytest.mark.parametrize("args, words", [
    (["--parity", "--smooth-strength", "0.5"], "--parity"),
    (["--smooth-strength", "1.5"], "1.5 is not in the range 0<=x<=1"),
    (["--smooth-strength", "-1"], "-1.0 is not in the range 0<=x<=1"),
    (["--no-smooth", "--smooth-strength", "0.3"], "contradict"),
])
def test_bad_smoothing_options_fail_cleanly(cli, film, tmp_path, args, words):
    code, output = cli(film, "-o", tmp_path / "o.mp4", *args)
    assert code != 0 and words in output and "Traceback" not in output
    assert list(tmp_path.iterdir()) == []


def test_report_path_problems_fail_before_any_work(cli, film, tmp_path):
    still = tmp_path / "still.png"
    cv2.imwrite(str(still), np.full((32, 32), 90, np.uint8))
    code, output = cli(still, "-o", tmp_path / "s.png", "--report", tmp_path / "r.json")
    assert code == 1 and "does not apply to stills" in output
    code, output = cli(film, "-o", tmp_path / "o.mp4", "--report", tmp_path / "o.mp4")
    assert code == 1 and "cannot be the same file" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["still.png"]


def test_eval_refuses_videos_that_do_not_match(cli, film, tmp_path):
    short = write_video(tmp_path / "short.mp4", width=96, height=64, frames=12, fps=24, audio=False)
    code, output = cli("eval", film, short, "-q", weights=False)
    assert code == 1 and output.strip() == f"vidcolor: error: {short}: ends after 12 frames, but {film} goes on; " \
        "compare videos with the same frames; for a part made with --start or --duration, measure it with the " \
        "same --start and --duration"
    small = write_video(tmp_path / "small.mp4", width=64, height=48, frames=30, fps=24, audio=False)
    code, output = cli("eval", film, small, weights=False)
    assert code == 1 and "is 64x48" in output


def test_eval_with_the_true_colors(cli, film, tmp_path):
    code, output = cli("eval", film, film, "--reference", film, weights=False)
    assert code == 0, output
    assert "ab_error: 0\n" in output and "colorfulness: 0\n" in output
