"""The network's replicas, the thread plan, and out-of-memory recovery: same pixels, every frame."""
import av
import numpy as np
import pytest
import torch

from conftest import ROOT, TEST_SIZE, short_of_memory
from media_factory import decoded_rgb, frame_times, relative_ms, write_video
from vidcolor import Colorizer, colorize_video, lab
from vidcolor.threads import ThreadPlan, plan_threads

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def frames():
    """Seven frames of the black-and-white sample film (an odd count: a short last batch)."""
    with av.open(str(ROOT / "samples" / "his_girl_friday_1940.mp4")) as c:
        return [f.to_ndarray(format="rgb24") for f, _ in zip(c.decode(video=0), range(7))]


@pytest.fixture(scope="module")
def single(tiny_weights):
    return Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, batch_size=1)


def test_cpu_thread_plan():
    assert plan_threads(CPU, cores=2) == ThreadPlan(workers=2, torch_threads=1, opencv_threads=1, encoder_threads=1)
    assert plan_threads(CPU, cores=1) == ThreadPlan(1, 1, 1, 1)
    assert plan_threads(CPU, cores=16) == ThreadPlan(4, 4, 1, 4)
    assert plan_threads(CPU, workers=1, cores=8) == ThreadPlan(1, 8, 1, 2)
    # On a GPU the CPU stages must keep up: several frames at once, one OpenCV thread each.
    assert plan_threads(torch.device("cuda"), cores=16) == ThreadPlan(1, 0, 1, 0, color_workers=4, smooth_workers=8)
    assert plan_threads(torch.device("cuda"), cores=2) == ThreadPlan(1, 0, 1, 0, color_workers=1, smooth_workers=1)


def test_replicas_share_the_weights(tiny_weights):
    c = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=3)
    assert len(c.replicas) == 3 and c.batch_size == 3
    first = dict(c.replicas[0].named_parameters())
    for other in c.replicas[1:]:
        assert other is not c.replicas[0]
        assert all(p.data_ptr() == first[name].data_ptr() for name, p in other.named_parameters())


@pytest.mark.parametrize("workers, batch_size", [(2, None), pytest.param(2, 5, marks=pytest.mark.slow), (3, 2)])
def test_replicas_give_the_same_pixels_in_the_same_order(tiny_weights, single, frames, workers, batch_size):
    c = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=workers, batch_size=batch_size)
    expected = np.stack([single.colorize(f) for f in frames])
    streamed = c.colorize(np.stack(frames))
    if c.batch_size // workers <= 1:  # one frame per pass, as ``single``: bit for bit
        assert np.array_equal(streamed, expected)
    # More frames per pass change the float sums a little (as batching does on any backend).
    for out in (streamed, np.stack(c.colorize_batch(frames))):
        diff = np.abs(out.astype(int) - expected)
        assert diff.max() <= 1 and (diff == 0).mean() > 0.99
    tags = [tag for _, tag in c.infer_stream((c.prepare(f)[1], i) for i, f in enumerate(frames))]
    assert tags == list(range(len(frames)))


def test_out_of_memory_halves_the_batch_and_retries_the_same_frames(tiny_weights, single, frames, monkeypatch):
    c = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, batch_size=4)
    seen = short_of_memory(monkeypatch, c, largest=1)
    out = c.colorize(np.stack(frames))
    assert seen[:3] == [4, 2, 1] and set(seen[3:]) == {1}
    assert c.batch_size == 1
    assert len(out) == len(frames)
    assert all(np.array_equal(a, single.colorize(f)) for a, f in zip(out, frames))


def test_out_of_memory_with_one_frame_is_a_clear_error(tiny_weights, frames, monkeypatch):
    from vidcolor.errors import VidcolorError

    c = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, batch_size=2)
    short_of_memory(monkeypatch, c, largest=0)
    with pytest.raises(VidcolorError, match="out of memory on cpu even with one frame"):
        c.colorize(frames[0])


def test_video_through_replicas_equals_one_network(tiny_weights, single, tmp_path):
    film = write_video(tmp_path / "film.mp4", width=96, height=64, frames=20, fps=24)
    two = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=2)
    # Lossless: x264 itself is not bit-reproducible from run to run here (same frames in, a few
    # bytes differ out), so an H.264 comparison would test the encoder, not the replicas.
    colorize_video(film, tmp_path / "one.mkv", colorizer=single, quiet=True, preset="archive")
    colorize_video(film, tmp_path / "two.mkv", colorizer=two, quiet=True, preset="archive")
    assert relative_ms(frame_times(tmp_path / "two.mkv")) == relative_ms(frame_times(film))
    one, two = decoded_rgb(tmp_path / "one.mkv"), decoded_rgb(tmp_path / "two.mkv")
    assert len(one) == len(two) == 20
    assert all(np.array_equal(a, b) for a, b in zip(one, two))


def test_bilinear_chroma_upsampling_matches_torch():
    rng = np.random.default_rng(3)
    ab = (rng.standard_normal((64, 64, 2)) * 30).astype(np.float32)
    grid = torch.from_numpy(ab).permute(2, 0, 1)[None]
    expected = torch.nn.functional.interpolate(grid, size=(113, 201), mode="bilinear", align_corners=False)
    ours = lab.upsample_ab(ab, 113, 201, "bilinear")
    assert ours.shape == (113, 201, 2)
    assert np.abs(ours - expected[0].permute(1, 2, 0).numpy()).max() < 0.01
