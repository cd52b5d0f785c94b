"""The CUDA paths: batches, bf16, out-of-memory recovery and a whole video. Skipped without a GPU
(CI has none); run them on a GPU machine with ``python -m pytest tests/test_gpu.py``."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from conftest import TEST_SIZE, short_of_memory
from media_factory import color_texture, decoded_rgb, frame_times, relative_ms, moving_gray, write_video
from vidcolor import Colorizer, colorize_video

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


@pytest.fixture(scope="module")
def frames():
    return np.stack([moving_gray(160, 96, i) for i in range(9)])


def test_gpu_fp32_matches_the_cpu(tiny_weights, frames):
    # Parity on both: the same upsampling, and true fp32 (no TF32) on the GPU.
    cpu = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, parity=True)
    gpu = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4, parity=True)
    diff = np.abs(cpu.colorize(frames).astype(int) - gpu.colorize(frames))
    assert diff.max() <= 2 and diff.mean() < 0.05


def test_bf16_stays_close_to_fp32(tiny_weights, frames):
    fp32 = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4)
    bf16 = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4, precision="bf16")
    diff = np.abs(fp32.colorize(frames).astype(int) - bf16.colorize(frames))
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8


def test_lab_on_the_gpu_matches_the_same_steps_on_the_cpu():
    from vidcolor.lab_torch import DeviceLab

    frame = color_texture(333, 199, seed=5)
    ab = np.random.default_rng(0).uniform(-50, 50, (TEST_SIZE, TEST_SIZE, 2)).astype(np.float32)
    gpu, cpu = (DeviceLab(torch.device(d), TEST_SIZE, "bilinear") for d in ("cuda", "cpu"))
    (L_gpu, x_gpu), (L_cpu, x_cpu) = gpu.prepare(frame), cpu.prepare(frame)
    assert np.abs(L_gpu - L_cpu).max() < 1e-3 and np.abs(x_gpu - x_cpu).max() < 1e-5
    diff = np.abs(gpu.finish(L_cpu, ab).astype(int) - cpu.finish(L_cpu, ab))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p10le"])
def test_planes_on_the_gpu_match_the_same_steps_on_the_cpu(pix_fmt):
    from vidcolor.lab_torch import DeviceLab
    from vidcolor.media.pixels import yuv_layout

    frame = color_texture(334, 200, seed=5)
    ab = np.random.default_rng(0).uniform(-50, 50, (TEST_SIZE, TEST_SIZE, 2)).astype(np.float32)
    gpu, cpu = (DeviceLab(torch.device(d), TEST_SIZE, "bilinear") for d in ("cuda", "cpu"))
    L, _ = cpu.prepare(frame)
    layout = yuv_layout(pix_fmt, 1, 1)
    for a, b in zip(gpu.finish_yuv(L, ab, layout), cpu.finish_yuv(L, ab, layout)):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert np.abs(a.astype(int) - b).max() <= 1


def test_lab_on_the_gpu_from_several_threads_at_once(tiny_weights, frames):
    net = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4)
    assert net.lab_on_device and net.smooth_on_device and not net.channels_last  # the defaults on CUDA, fp32
    alone = [net.prepare(f) for f in frames]
    with ThreadPoolExecutor(4) as pool:  # each thread on its own CUDA stream
        together = list(pool.map(net.prepare, frames))
    for (L1, x1), (L2, x2) in zip(alone, together):
        np.testing.assert_array_equal(L1, L2)
        np.testing.assert_array_equal(x1, x2)
    ab = net.infer(np.stack([x for _, x in alone]))
    with ThreadPoolExecutor(4) as pool:
        finished = list(pool.map(net.finish, [L for L, _ in alone], ab))
    for L, a, rgb in zip((L for L, _ in alone), ab, finished):
        np.testing.assert_array_equal(rgb, net.finish(L, a))


def test_bf16_runs_channels_last_by_default_with_the_same_colors(tiny_weights, frames):
    last = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4, precision="bf16")
    plain = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=4, precision="bf16",
                      channels_last=False)
    assert last.channels_last and not plain.channels_last
    diff = np.abs(last.colorize(frames).astype(int) - plain.colorize(frames))
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8


def test_automatic_batch_stays_within_32_bit_kernels(tiny_weights):
    net = Colorizer(weights=tiny_weights, device="cuda", input_size=512, precision="bf16")
    assert 1 <= net.batch_size <= 16
    x = np.random.default_rng(0).random((net.batch_size, 3, 512, 512), dtype=np.float32)
    assert net.infer(x).shape == (net.batch_size, 512, 512, 2)


def test_out_of_memory_halves_the_batch_on_the_gpu(tiny_weights, frames, monkeypatch):
    net = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, batch_size=8)
    expected = net.colorize(frames)
    seen = short_of_memory(monkeypatch, net, largest=2)
    out = net.colorize(frames)
    assert seen[:3] == [8, 4, 2] and net.batch_size == 2
    # Every frame colorized (cuDNN may pick other kernels for another batch size: not bit for bit).
    assert out.shape == expected.shape and np.abs(out.astype(int) - expected).max() <= 2


def test_video_on_the_gpu_keeps_every_frame_and_timestamp(tiny_weights, tmp_path):
    film = write_video(tmp_path / "film.mp4", width=160, height=96, frames=30, fps=24)
    net = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, precision="bf16")
    summary = colorize_video(film, tmp_path / "out.mkv", colorizer=net, quiet=True, preset="archive")
    assert summary.frames == 30
    assert relative_ms(frame_times(tmp_path / "out.mkv")) == relative_ms(frame_times(film))
    colored = decoded_rgb(tmp_path / "out.mkv")
    assert len(colored) == 30 and all(f.shape == (96, 160, 3) for f in colored)
    assert np.mean([np.ptp(f.astype(int), axis=2).mean() for f in colored]) > 1  # not gray


def test_smoothing_on_the_gpu_agrees_with_opencv(tiny_weights, tmp_path):
    """Issue 22 on the GPU itself: the same film smoothed on the device and by OpenCV, within 0.5 ab."""
    import cv2

    film = write_video(tmp_path / "film.mp4", width=320, height=192, frames=24, fps=24)
    outputs = {}
    for on_device in (True, False):
        net = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, smooth_on_device=on_device,
                        lab_on_device=False)
        out = tmp_path / f"out_{on_device}.mkv"
        colorize_video(film, out, colorizer=net, quiet=True, preset="archive")
        rgb = np.stack(decoded_rgb(out)).astype(np.float32) / 255
        outputs[on_device] = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2Lab)[..., 1:] for f in rgb])
    assert np.abs(outputs[True] - outputs[False]).mean() < 0.5


def test_flows_judged_on_the_gpu_from_several_threads_agree_with_the_cpu():
    """The smoother's flows are judged on the GPU, four at once on their threads' own streams, as
    the pipeline does: the trust of each pair as NumPy's, its maps left on the GPU."""
    from vidcolor import lab
    from vidcolor.stages import Workers
    from vidcolor.temporal import MotionTracker
    from vidcolor.temporal.motion import FlowsAhead

    L = [lab.split(np.repeat(moving_gray(640, 360, i)[..., None], 3, axis=2))[0] for i in range(16)]
    tracker = MotionTracker(preset="fast")
    on_cpu = [tracker.push(x) for x in L]
    workers = Workers(4, "judge")
    ahead = FlowsAhead(MotionTracker(preset="fast", device="cuda"), workers)
    flowed = [f for x in L for f in ahead.push(x)] + ahead.flush()
    workers.close()
    steps = [ahead.tracker.step(*f[:3]) for f in flowed]
    assert len(steps) == len(on_cpu) == 16
    for a, b in zip(on_cpu[1:], steps[1:]):
        assert b.pair.trust_fw.is_cuda and a.cut == b.cut and abs(a.trust - b.trust) < 1e-4
        assert np.abs(a.pair.trust_bw - b.pair.trust_bw.cpu().numpy()).mean() < 1e-3


def test_the_web_preset_encodes_with_nvenc_or_says_why_not(tiny_weights, tmp_path):
    import warnings

    import av

    from vidcolor.media import hardware

    film = write_video(tmp_path / "film.mp4", width=320, height=192, frames=30, fps=24)
    net = Colorizer(weights=tiny_weights, device="cuda", input_size=TEST_SIZE, precision="bf16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = colorize_video(film, tmp_path / "out.mp4", colorizer=net, quiet=True)
    notes = " ".join(str(w.message) for w in caught)
    assert summary.frames == 30 and relative_ms(frame_times(tmp_path / "out.mp4")) == relative_ms(frame_times(film))
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    if hardware.opens("h264_nvenc"):
        assert "encoding with h264_nvenc" in notes
    else:
        assert "no NVENC" in notes


def test_a_blend_on_the_gpu_waits_for_it_once():
    """Each smoothed frame's blend queues its work and waits once, for its result (issue 22: every
    wait stops the thread until its stream is done, other frames' blends queued before included).
    A tensor made of constants per call would be copied up and wait each time."""
    import warnings

    from vidcolor.temporal.smoother_torch import DeviceBlend
    from vidcolor.temporal.smoother import MAX_CHROMA_GAIN

    device = torch.device("cuda")
    gen = torch.Generator(device).manual_seed(0)

    def rand(*shape, scale=1.0):
        return torch.rand(shape, device=device, generator=gen) * scale

    own = rand(2, 64, 64, scale=40)
    # Two steps each way, the flow at a size of its own (resized for the blend, as the pipeline's is).
    sides = [[(rand(2, 64, 64, scale=40), rand(2, 48, 80, scale=3), rand(48, 80)) for _ in range(2)]
             for _ in range(2)]
    blend = DeviceBlend(device, MAX_CHROMA_GAIN)
    blend.blend(own, sides, [1.0, 0.8, 0.4], True)  # the first call makes the cached grids
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = blend.blend(own, sides, [1.0, 0.8, 0.4], True)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    waits = [w for w in caught if "synchroniz" in str(w.message)]
    assert out.shape == (64, 64, 2) and np.isfinite(out).all()
    assert len(waits) == 1, [str(w.message) for w in waits]
