"""The Lab steps in torch (``vidcolor.lab_torch``), the GPU's path, checked on the CPU against
OpenCV's (``vidcolor.lab``), and through a whole Colorizer and video."""
import av
import cv2
import numpy as np
import pytest
import torch

from conftest import ROOT, TEST_SIZE
from media_factory import color_texture, decoded_rgb, moving_gray, write_video
from vidcolor import Colorizer, VidcolorError, colorize_video, lab, lab_torch
from vidcolor.lab_torch import DeviceLab
from vidcolor.media.encode import VideoWriter
from vidcolor.media.images import read_image

CPU = torch.device("cpu")
CAMERA = ROOT / "samples" / "camera.png"


@pytest.fixture(scope="module")
def texture():
    return color_texture(161, 97, seed=3)  # odd sizes: no band or resize lines up by chance


def smooth_ab(seed: int, size: int = TEST_SIZE, spread: float = 60.0) -> np.ndarray:
    ab = np.random.default_rng(seed).uniform(-spread, spread, (size, size, 2)).astype(np.float32)
    return cv2.GaussianBlur(ab, (0, 0), 2)


@pytest.mark.parametrize("order", ["rgb", "bgr"])
def test_prepare_matches_opencv(texture, order):
    L, x = lab_torch.DeviceLab(CPU, TEST_SIZE, "bilinear").prepare(texture, order)
    img = lab.to_float(texture)
    # OpenCV's float RGB -> Lab interpolates a table; these formulas are exact.
    assert L.shape == texture.shape[:2] and L.dtype == np.float32
    assert np.abs(L - lab.lightness(img, order)).max() < 0.25
    expected = lab.model_input(img, TEST_SIZE, order)
    assert x.shape == expected.shape == (3, TEST_SIZE, TEST_SIZE)
    assert np.abs(x - expected).max() < 0.0025
    assert np.ptp(x, axis=0).max() < 1e-5  # the network sees gray


@pytest.mark.parametrize("order", ["rgb", "bgr"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_finish_gives_opencvs_bytes(texture, order, mode):
    L = lab.lightness(lab.to_float(texture), order)
    ab = smooth_ab(1)
    ours = lab_torch.DeviceLab(CPU, TEST_SIZE, mode).finish(L, ab, order)
    theirs = lab.compose(L, lab.upsample_ab(ab, *L.shape, mode), order)
    assert ours.shape == theirs.shape and ours.dtype == np.uint8 and ours.flags.c_contiguous
    diff = np.abs(ours.astype(int) - theirs)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.998


def test_out_of_gamut_colors_are_clipped_as_opencv_clips_them():
    L = np.linspace(0, 100, 120 * 150, dtype=np.float32).reshape(120, 150)
    ab = np.random.default_rng(2).uniform(-128, 127, (TEST_SIZE, TEST_SIZE, 2)).astype(np.float32)
    ours = lab_torch.DeviceLab(CPU, TEST_SIZE, "bilinear").finish(L, ab)
    theirs = lab.compose(L, lab.upsample_ab(ab, *L.shape, "bilinear"))
    diff = np.abs(ours.astype(int) - theirs)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.998
    assert (ours == 0).any() and (ours == 255).any()


def test_a_gray_frame_keeps_every_pixel_value():
    levels = np.tile(np.arange(256, dtype=np.uint8), (9, 1))
    gray = np.repeat(levels[:, :, None], 3, axis=2)
    device_lab = lab_torch.DeviceLab(CPU, TEST_SIZE, "bilinear")
    L, _ = device_lab.prepare(gray)
    back = device_lab.finish(L, np.zeros((TEST_SIZE, TEST_SIZE, 2), np.float32))
    np.testing.assert_array_equal(back, gray)


def test_bands_give_the_same_results(texture, monkeypatch):
    device_lab = lab_torch.DeviceLab(CPU, TEST_SIZE, "bilinear")
    ab = smooth_ab(4)
    L, x = device_lab.prepare(texture)
    whole = device_lab.finish(L, ab)
    monkeypatch.setattr(lab_torch, "BAND_PIXELS", 1000)  # 6 rows of 161: 17 bands, the last short
    L_banded, x_banded = device_lab.prepare(texture)
    # torch's CPU kernels take a band's last odd elements off the vector path: an ulp at most.
    np.testing.assert_allclose(L_banded, L, rtol=1e-6)
    np.testing.assert_array_equal(x_banded, x)
    np.testing.assert_array_equal(device_lab.finish(L, ab), whole)


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv422p10le"])
def test_planes_made_in_bands_are_the_planes_made_whole(monkeypatch, pix_fmt):
    """The 4:2:0 chroma filter reads a row beyond each band: bands leave no seam."""
    from vidcolor.media.pixels import yuv_layout

    device_lab = lab_torch.DeviceLab(CPU, TEST_SIZE, "bilinear")
    L, _ = device_lab.prepare(color_texture(160, 98, seed=3))
    layout = yuv_layout(pix_fmt, 1, 1)
    whole = device_lab.finish_yuv(L, smooth_ab(4), layout)
    monkeypatch.setattr(lab_torch, "BAND_PIXELS", 1000)  # 6 rows of 160: 17 bands, the last short
    for banded, plane in zip(device_lab.finish_yuv(L, smooth_ab(4), layout), whole):
        np.testing.assert_array_equal(banded, plane)


def test_a_colorizer_with_lab_on_the_device_gives_nearly_the_same_colors(tiny_weights):
    bgr, _ = read_image(CAMERA)
    opencv = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1)
    device = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, lab_on_device=True)
    assert not opencv.lab_on_device and device.lab_on_device
    ours, theirs = device.colorize(bgr, order="bgr"), opencv.colorize(bgr, order="bgr")
    assert np.ptp(theirs.astype(int), axis=2).mean() > 2  # colorized: there is color to compare
    diff = np.abs(ours.astype(int) - theirs)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 3


# yuv444p10le; yuv420p at CRF 0 (lossless: two x264 encodes of inputs a level apart differ by more)
@pytest.mark.parametrize("preset, suffix, crf, mean, top", [("archive", "mkv", None, 0.5, 3), ("web", "mp4", 0, 1, 6)])
def test_video_with_lab_on_the_device(tiny_weights, tmp_path, monkeypatch, preset, suffix, crf, mean, top):
    film = write_video(tmp_path / "film.mp4", width=160, height=96, frames=12, fps=24)
    outputs = {}
    for on_device in (False, True):
        net = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, lab_on_device=on_device)
        if on_device:  # the frames leave the device in the encoder's format: nothing converts them on the CPU
            monkeypatch.setattr(VideoWriter, "to_frame", None)
        out = tmp_path / f"out_{on_device}.{suffix}"
        summary = colorize_video(film, out, colorizer=net, quiet=True, preset=preset, smooth_strength=0, crf=crf)
        assert summary.frames == 12
        outputs[on_device] = np.stack(decoded_rgb(out)).astype(int)
    assert outputs[True].shape == (12, 96, 160, 3)
    assert np.ptp(outputs[True], axis=3).mean() > 1  # not gray
    diff = np.abs(outputs[True] - outputs[False])  # RGB: a level of chroma is one and a half of red or blue
    assert diff.mean() < mean and np.percentile(diff, 99.9) <= top


@pytest.mark.parametrize("pix_fmt, colorspace, color_range", [
    ("yuv420p", 1, 1), ("yuv420p", 2, 0), ("yuv444p", 9, 2), ("yuv444p10le", 1, 1), ("yuv422p10le", 5, 2),
    ("yuvj420p", 2, 0)])
def test_planes_made_in_torch_are_what_swscale_makes(pix_fmt, colorspace, color_range):
    """The device's conversion to the encoder's format against swscale's (``VideoWriter.to_frame``),
    on a real picture: the same matrix, range and depth; chroma averaged where it is subsampled."""
    from vidcolor.media.pixels import frame_from_planes, yuv_layout

    bgr, _ = read_image(CAMERA)
    L, _ = lab.split(cv2.resize(bgr, (320, 240), interpolation=cv2.INTER_AREA)[..., ::-1].copy())
    ab = np.random.default_rng(0).uniform(-40, 40, (TEST_SIZE, TEST_SIZE, 2)).astype(np.float32)
    device_lab = DeviceLab(torch.device("cpu"), TEST_SIZE, "bilinear")
    rgb = device_lab.finish(L, ab)
    layout = yuv_layout(pix_fmt, colorspace, color_range)
    ours = frame_from_planes(device_lab.finish_yuv(L, ab, layout), layout)
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format=pix_fmt, dst_colorspace=colorspace, dst_color_range=color_range or None)
    level = 1 << (layout.bits - 8)  # one 8-bit level
    for i, (a, b) in enumerate(zip(ours.planes, theirs.planes)):
        a, b = (np.frombuffer(p, layout.dtype).reshape(p.height, -1)[:, :p.width].astype(int) for p in (a, b))
        diff = np.abs(a - b)
        if i == 0 or layout.sub_x == layout.sub_y == 1:
            assert diff.max() <= level
        else:  # swscale's chroma filter is not a box: a level or two on this textured picture
            assert diff.mean() < 2 * level
    back = ours.to_ndarray(format="rgb24").astype(int)  # read back with the tags the frame carries
    assert np.abs(back - theirs.to_ndarray(format="rgb24")).mean() < (1 if layout.sub_y == 1 else 1.5)


def test_a_frame_without_room_on_the_device_is_done_in_opencv(tiny_weights, monkeypatch):
    frame = color_texture(96, 64, seed=6)
    opencv = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1)
    device = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, lab_on_device=True)

    def no_room(*args):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(device._device_lab, "prepare", no_room)
    monkeypatch.setattr(device._device_lab, "finish", no_room)
    np.testing.assert_array_equal(device.colorize(frame), opencv.colorize(frame))


def test_defaults_and_parity(tiny_weights):
    net = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE)
    # On the CPU OpenCV's Lab and blend are faster; channels-last is too.
    assert not net.lab_on_device and not net.smooth_on_device and net.channels_last
    assert not Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, parity=True).channels_last
    for option in ("lab_on_device", "channels_last"):
        with pytest.raises(VidcolorError, match="parity"):
            Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, parity=True, **{option: True})


def test_channels_last_gives_the_same_colors(tiny_weights):
    frames = np.stack([moving_gray(96, 64, i) for i in range(2)])
    plain = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, channels_last=False)
    last = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, workers=1, channels_last=True)

    def channels_last_kernels(net):
        kernels = [p for p in net.model.parameters() if p.dim() == 4 and min(p.shape[1:]) > 1]
        return sum(p.is_contiguous(memory_format=torch.channels_last) for p in kernels) / len(kernels)

    assert channels_last_kernels(last) == 1 and channels_last_kernels(plain) == 0
    assert np.abs(plain.colorize(frames).astype(int) - last.colorize(frames)).max() <= 1


def test_cli_refuses_lab_on_device_with_parity(cli, tmp_path):
    code, output = cli(CAMERA, "-o", tmp_path / "out.png", "--parity", "--lab-on-device")
    assert code != 0 and "parity" in output and "Traceback" not in output
    assert not (tmp_path / "out.png").exists()
