"""Flow, scene cuts and chroma smoothing on real media: PyAV clips with known motion, and a color
sample turned gray and colorized by a known "flickering colorizer"."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from media_factory import color_texture, decoded_rgb, translate, write_frames
from vidcolor import VidcolorError, lab, smooth_chroma
from vidcolor.metrics import Report
from vidcolor.metrics.flicker import flicker
from vidcolor.temporal import ChromaSmoother, MotionTracker
from vidcolor.temporal.flow import dis_preset

ROOT = Path(__file__).resolve().parents[1]
WATER = ROOT / "samples" / "stream_of_water.mp4"
FILM = ROOT / "samples" / "his_girl_friday_1940.mp4"
MOTION = (1.5, -0.75)  # pixels per frame


def lab_of(frames):
    pairs = [lab.split(f) for f in frames]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


@pytest.fixture(scope="module")
def panning(tmp_path_factory):
    """A colored texture panning at a known speed, through a real encoder and decoder."""
    base = color_texture(240, 160, seed=3)
    frames = [translate(base, MOTION[0] * i, MOTION[1] * i) for i in range(16)]
    path = write_frames(tmp_path_factory.mktemp("pan") / "pan.mp4", frames, codec="libx264",
                        pix_fmt="yuv444p", options={"crf": "12"})
    return decoded_rgb(path)


@pytest.fixture(scope="module")
def two_shots(tmp_path_factory):
    """Two different pans, joined by a hard cut at frame 12."""
    a, b = color_texture(240, 160, seed=4), color_texture(240, 160, seed=5)
    frames = [translate(a, i, 0) for i in range(12)] + [translate(b, 0, 0.5 * i) for i in range(12)]
    return decoded_rgb(write_frames(tmp_path_factory.mktemp("cut") / "cut.mp4", frames))


@pytest.fixture(scope="module")
def water():
    frames = decoded_rgb(WATER)[:36]
    return [cv2.resize(f, (240, 180), interpolation=cv2.INTER_AREA) for f in frames]


def test_flow_follows_known_motion_and_is_trusted(panning):
    tracker = MotionTracker()
    steps = [tracker.push(lab.split(f)[0]) for f in panning]
    assert not any(s.cut for s in steps)
    for s in steps[1:]:
        # Backward-warping convention: frame t's content is found at x + fw in frame t+1.
        inner = s.pair.fw[20:-20, 20:-20]
        assert np.allclose(np.median(inner.reshape(-1, 2), axis=0), MOTION, atol=0.1)
        assert np.allclose(np.median(s.pair.bw[20:-20, 20:-20].reshape(-1, 2), axis=0), [-m for m in MOTION], atol=0.1)
        assert s.trust > 0.85


def test_brightness_flicker_of_old_film_is_not_a_mismatch(panning):
    tracker = MotionTracker()
    gains = [1.0, 0.85, 1.1, 0.9, 1.15, 0.8, 1.05, 0.95]
    steps = [tracker.push(np.clip(lab.split(f)[0] * g, 0, 100)) for f, g in zip(panning, gains)]
    assert not any(s.cut for s in steps)
    assert min(s.trust for s in steps[1:]) > 0.8
    assert np.allclose(np.median(steps[3].pair.fw[20:-20, 20:-20].reshape(-1, 2), axis=0), MOTION, atol=0.15)


@pytest.mark.parametrize("device", [None, "cpu"])  # OpenCV's blend, and torch's (as on a GPU) on the CPU
def test_cut_is_found_and_nothing_crosses_it(two_shots, device):
    L, ab = lab_of(two_shots)
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    steps = list(ChromaSmoother(0.5, device=device).stream(zip(L, noisy)))
    assert [i for i, s in enumerate(steps) if s.step.cut] == [12]

    joined = smooth_chroma(L, noisy, device=device)
    alone = np.concatenate([smooth_chroma(L[:12], noisy[:12], device=device),
                            smooth_chroma(L[12:], noisy[12:], device=device)])
    # Equal up to float noise (OpenCV's threads may sum in another order); a leak would be units.
    assert np.abs(joined - alone).max() < 1e-3
    # The first frame after the cut keeps its own colors (smoothed only with its own shot) ...
    assert np.linalg.norm(joined[12] - ab[12], axis=2).mean() < np.linalg.norm(noisy[12] - ab[12], axis=2).mean()
    # ... and the last one before it was smoothed too, without the next shot.
    assert not np.array_equal(joined[11], noisy[11])


@pytest.mark.parametrize("device", [None, "cpu"])
def test_smoothing_frames_side_by_side_gives_the_same_result_in_order(two_shots, device):
    L, ab = lab_of(two_shots)
    noisy = [flicker(a, i) for i, a in enumerate(ab)]
    one = list(ChromaSmoother(0.5, device=device).stream(zip(L, noisy, range(len(L)))))
    for workers in (2, 5):
        many = list(ChromaSmoother(0.5, workers=workers, device=device).stream(zip(L, noisy, range(len(L)))))
        assert [s.tag for s in many] == list(range(len(L)))
        assert [s.step.cut for s in many] == [s.step.cut for s in one]
        assert [s.step.trust for s in many] == [s.step.trust for s in one]
        # Float noise only (OpenCV's SIMD paths depend on where an array lies in memory).
        assert max(np.abs(a.ab - b.ab).max() for a, b in zip(one, many)) < 1e-3


def test_fade_and_dissolve_make_no_cuts(two_shots):
    a, b = two_shots[:12], two_shots[12:]
    ramp = [k / 8 for k in range(1, 9)]
    fade = a[:4] + [(f * (1 - r)).astype(np.uint8) for f, r in zip(a[4:], ramp)] + \
        [(f * r).astype(np.uint8) for f, r in zip(b[:8], ramp)] + b[8:]
    dissolve = a[:4] + [cv2.addWeighted(x, 1 - r, y, r, 0) for x, y, r in zip(a[4:], b[:8], ramp)] + b[8:]
    for frames in (fade, dissolve):
        tracker = MotionTracker()
        assert not any(tracker.push(lab.split(f)[0]).cut for f in frames)


def test_static_shot_with_grain_does_not_drift():
    still = color_texture(160, 120, seed=9)
    L0, ab0 = lab.split(still)
    rng = np.random.default_rng(0)
    grainy = [np.clip(L0 + rng.normal(0, 2.0, L0.shape).astype(np.float32), 0, 100) for _ in range(40)]
    exact = smooth_chroma(np.stack(grainy), np.repeat(ab0[None], 40, axis=0))
    change = np.abs(exact - ab0).mean(axis=(1, 2, 3))
    assert change.max() < 0.3  # the exact color comes back (grain only jitters the flow a little)
    assert change[-10:].mean() <= change[:10].mean() + 0.05  # and nothing accumulates

    noisy = np.stack([flicker(ab0, i) for i in range(40)])
    smoothed = smooth_chroma(np.stack(grainy), noisy)
    before = np.linalg.norm(noisy - ab0, axis=3).mean(axis=(1, 2))
    after = np.linalg.norm(smoothed - ab0, axis=3).mean(axis=(1, 2))
    assert after.mean() < 0.6 * before.mean()
    assert after[-10:].mean() < 1.2 * after[10:20].mean()


def measure(frames, versions: dict) -> dict:
    """Report metrics for each named list of ab versions of ``frames``, on one shared flow."""
    L, _ = lab_of(frames)
    report = Report(tuple(versions))
    tracker = MotionTracker()
    for i, rgb in enumerate(frames):
        step = tracker.push(L[i])
        report.add(i / 30, step, reference=rgb, **{k: lab.compose(L[i], v[i]) for k, v in versions.items()})
    return report.to_dict()["metrics"]


@pytest.mark.parametrize("grid", [0, 128])
def test_smoothing_real_footage_cuts_flicker_without_washing_out(water, grid):
    """The issue's targets, on a real color clip: E_warp at least halved, ab error down,
    colorfulness kept (the flicker itself inflates it, so it is also held against the truth)."""
    L, ab = lab_of(water)
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    if grid:  # as in the pipeline: smoothed on the model's grid, upsampled after
        small = np.stack([cv2.resize(a, (grid, grid), interpolation=cv2.INTER_AREA) for a in noisy])
        up = lambda x: np.stack([lab.upsample_ab(a, *L.shape[1:], "bilinear") for a in x])  # noqa: E731
        noisy, smoothed = up(small), up(smooth_chroma(L, small))
    else:
        smoothed = smooth_chroma(L, noisy)
    m = measure(water, {"truth": ab, "unsmoothed": noisy, "smoothed": smoothed})
    raw, out, truth = m["unsmoothed"], m["smoothed"], m["truth"]
    assert out["e_warp"] <= 0.5 * raw["e_warp"]
    assert out["cdc"] < raw["cdc"]
    assert out["ab_error"] < 0.8 * raw["ab_error"]
    assert out["colorfulness"] >= 0.97 * truth["colorfulness"]
    assert out["colorfulness"] >= 0.8 * raw["colorfulness"]


@pytest.mark.parametrize("grid", [0, 128])
def test_smoothing_in_torch_agrees_with_opencv_on_a_real_film(water, grid):
    """The blend on the device (here torch on the CPU) against OpenCV's, on real footage: issue 22
    asks for 0.5 ab units on average; they differ by cv2.remap's rounding of positions to 1/32 px."""
    L, ab = lab_of(water)
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    if grid:
        noisy = np.stack([cv2.resize(a, (grid, grid), interpolation=cv2.INTER_AREA) for a in noisy])
    opencv, device = smooth_chroma(L, noisy), smooth_chroma(L, noisy, device="cpu")
    assert np.abs(opencv - noisy).mean() > 2  # the smoothing moved the color: there is something to agree on
    diff = np.abs(device - opencv)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) < 1


def test_flows_judged_in_torch_agree_with_opencv_on_a_real_film(water, monkeypatch):
    """On a GPU the smoother's flows are judged on the device (``flow_torch``), their trust maps left
    there; run on the CPU here, against the NumPy judgement: the same cuts, the same trust (3e-5
    apart where remap's 1/32-pixel positions differ). A device without room judges on the CPU instead."""
    import torch

    from vidcolor.temporal import flow_torch

    film = [cv2.resize(f, (240, 180), interpolation=cv2.INTER_AREA) for f in decoded_rgb(FILM)[:12]]
    L = [lab.split(f)[0] for f in water[:12] + film]  # with a cut between the two
    on_cpu, on_device = MotionTracker(preset="fast"), MotionTracker(preset="fast", device="cpu")
    pairs = 0
    for frame in L:
        a, b = on_cpu.push(frame), on_device.push(frame)
        assert a.cut == b.cut and abs(a.trust - b.trust) < 1e-4
        if a.pair is not None:
            pairs += 1
            assert isinstance(b.pair.trust_fw, torch.Tensor) and b.pair.valid is None
            for x, y in ((a.pair.trust_fw, b.pair.trust_fw), (a.pair.trust_bw, b.pair.trust_bw)):
                assert np.abs(x - y.numpy()).mean() < 1e-3
            assert np.array_equal(a.pair.fw, b.pair.fw.numpy())
    assert pairs == len(L) - 2  # every pair but the cut's

    def no_room(*args):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(flow_torch, "judge", no_room)
    tracker = MotionTracker(preset="fast", device="cpu")
    steps = [tracker.push(frame) for frame in L[:3]]
    assert isinstance(steps[2].pair.trust_fw, np.ndarray) and steps[2].pair.valid is not None


@pytest.mark.slow  # about 9 s
def test_the_smoothers_fast_flow_smooths_real_footage_as_well_as_medium():
    """The smoother's DIS fast preset (at 480 px, where it takes over from medium) against medium,
    measured on a medium flow of its own: the ab error to the truth and E_warp stay where medium's are."""
    frames = decoded_rgb(WATER)[:30]  # 480x360: the working size itself
    L, ab = lab_of(frames)
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    smoothed = {preset: np.stack([s.ab for s in ChromaSmoother(0.5, tracker=MotionTracker(preset=preset)).stream(
        zip(L, noisy))]) for preset in ("fast", "medium")}
    assert dis_preset(ChromaSmoother(0.5).tracker._preset, L.shape[1:]) == "fast"  # the default, at this size
    m = measure(frames, {"truth": ab, "unsmoothed": noisy, **smoothed})
    assert m["fast"]["ab_error"] <= 1.05 * m["medium"]["ab_error"] < 0.8 * m["unsmoothed"]["ab_error"]
    assert m["fast"]["e_warp"] <= 1.15 * m["medium"]["e_warp"] < 0.5 * m["unsmoothed"]["e_warp"]
    assert m["fast"]["colorfulness"] >= 0.97 * m["medium"]["colorfulness"]


@pytest.mark.parametrize("full", ["blend", "hold"])
def test_a_device_without_room_smooths_in_opencv_instead(two_shots, monkeypatch, full):
    """The network's batches come first on the GPU: a blend that finds no room is done in OpenCV from
    the same arrays; an upload that finds none moves the rest of the film to OpenCV. No frame is lost."""
    import torch

    from vidcolor.temporal.smoother_torch import DeviceBlend

    L, ab = lab_of(two_shots)
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    opencv = smooth_chroma(L, noisy)
    real, calls = getattr(DeviceBlend, full), []

    def no_room_at_times(self, *args):
        calls.append(1)
        if len(calls) % 3 == 0 if full == "blend" else len(calls) > 5:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(self, *args)

    monkeypatch.setattr(DeviceBlend, full, no_room_at_times)
    out = smooth_chroma(L, noisy, device="cpu")
    assert len(calls) >= 6 and out.shape == opencv.shape
    diff = np.abs(out - opencv)
    assert diff.mean() < 0.05 and diff.max() < 1


def test_mild_flicker_keeps_colorfulness_within_five_percent(water):
    L, ab = lab_of(water)
    mild = dict(shift=2.0, blotch_amplitude=4.0, regions=3, max_hue_degrees=45.0)
    noisy = np.stack([flicker(a, i, **mild) for i, a in enumerate(ab)])
    m = measure(water, {"unsmoothed": noisy, "smoothed": smooth_chroma(L, noisy)})
    assert m["smoothed"]["colorfulness"] >= 0.95 * m["unsmoothed"]["colorfulness"]
    assert m["smoothed"]["e_warp"] < m["unsmoothed"]["e_warp"]
    assert m["smoothed"]["ab_error"] < m["unsmoothed"]["ab_error"]


def test_streaming_matches_the_function_and_memory_is_bounded(water):
    L, ab = lab_of(water[:20])
    noisy = np.stack([flicker(a, i) for i, a in enumerate(ab)])
    smoother = ChromaSmoother(0.5)
    out, held = [], []
    for i in range(20):  # one frame at a time, as an editor would
        out += [s.ab for s in smoother.push(L[i], noisy[i], tag=i)]
        held.append(len(smoother._frames))
    out += [s.ab for s in smoother.flush()]
    assert np.abs(np.stack(out) - smooth_chroma(L, noisy)).max() < 1e-3
    assert max(held) <= 2 * smoother.radius + 1


def test_strength_zero_is_the_identity_and_options_are_checked(water):
    L, ab = lab_of(water[:4])
    assert np.array_equal(smooth_chroma(L, ab, strength=0), ab)
    with pytest.raises(VidcolorError, match="between 0"):
        smooth_chroma(L, ab, strength=1.5)
    with pytest.raises(ValueError, match="expected L"):
        smooth_chroma(L, ab[..., :1])
    with pytest.raises(ValueError, match="expected L"):
        smooth_chroma(L[:3], ab)
