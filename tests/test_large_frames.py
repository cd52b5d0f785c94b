"""Very large frames (8K): colorized whole, with what waits between the stages kept small."""
import av
import cv2
import numpy as np
import pytest

from media_factory import decoded_rgb, frame_times, write_video

from vidcolor import lab
from vidcolor.run.film import QUEUE_FRAMES, queue_depth


def chroma(lab: np.ndarray) -> float:
    """Mean distance from gray of 8-bit OpenCV Lab."""
    return float(np.abs(lab[..., 1:] - 128).mean())


def test_lightness_is_its_own_array_and_bands_change_nothing():
    rng = np.random.default_rng(3)
    img = rng.random((1083, 1921, 3), dtype=np.float32)  # bands do not divide it evenly
    reference = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    L = lab.lightness(img)
    # A view would keep all three Lab channels alive while the frame waits in the queues.
    assert L.base is None and L.flags.c_contiguous and L.nbytes == 1083 * 1921 * 4
    assert np.array_equal(L, reference[:, :, 0])
    whole = cv2.convertScaleAbs(cv2.cvtColor(reference, cv2.COLOR_Lab2RGB), alpha=255.0)
    assert np.array_equal(lab.compose(L, np.ascontiguousarray(reference[:, :, 1:])), whole)


def test_queues_hold_fewer_frames_when_frames_are_huge():
    assert queue_depth(1280 * 720, 1) == queue_depth(3840 * 2160, 1) == QUEUE_FRAMES
    assert queue_depth(1920 * 1080, 16) == 32  # a GPU batch is still fed whole
    assert queue_depth(7680 * 4320, 1) == 4
    assert queue_depth(15360 * 8640, 1) == 2


@pytest.mark.slow  # about 45 s
def test_an_8k_film_is_colorized_at_full_size(cli, tmp_path):
    film = write_video(tmp_path / "8k.mkv", width=7680, height=4320, frames=3, codec="ffv1", audio=False)
    out = tmp_path / "8k_color.mkv"
    code, output = cli(film, "-o", out, "--preset", "archive")
    assert code == 0, output
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height, v.codec_context.name) == (7680, 4320, "ffv1")
    assert len(frame_times(out)) == 3
    for colored, gray in zip(decoded_rgb(out), decoded_rgb(film)):
        lab_out, lab_in = (cv2.cvtColor(f, cv2.COLOR_RGB2Lab).astype(np.int16) for f in (colored, gray))
        assert np.abs(lab_out[..., 0] - lab_in[..., 0]).mean() < 1.5  # the picture is the input's
        assert chroma(lab_in) < 0.5 and chroma(lab_out) > 2  # gray in, color out
