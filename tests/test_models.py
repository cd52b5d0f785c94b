"""Checkpoint containers, strict loading, release checks, and the Colorizer API."""
import json

import numpy as np
import pytest
import torch

from conftest import TEST_SIZE
from media_factory import moving_gray
from vidcolor import CheckpointError, Colorizer, lab
from vidcolor.models.checkpoint import load_ddcolor, read_state_dict


@pytest.fixture(scope="module")
def gray_frames():
    return np.stack([moving_gray(80, 48, i) for i in range(5)])


@pytest.mark.parametrize("name", ["params.pth", "bare.pt", "model.safetensors", "mixin"])
def test_every_container_gives_the_same_network(weights_dir, tiny_state_dict, name):
    sd, _ = read_state_dict(weights_dir / name)
    assert sd.keys() == tiny_state_dict.keys()
    assert all(torch.equal(sd[k], tiny_state_dict[k]) for k in sd)
    model = load_ddcolor(sd, name)
    x = torch.rand(1, 3, TEST_SIZE, TEST_SIZE, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ab = model(x)
    assert ab.shape == (1, 2, TEST_SIZE, TEST_SIZE)
    assert 1.0 < ab.abs().mean() < 100.0  # realistic chroma, not the 1e14 of a random init


def test_unused_classifier_head_is_dropped(tiny_state_dict, tmp_path):
    sd = dict(tiny_state_dict)
    sd["encoder.arch.head_cls.weight"] = torch.zeros(1000, 768)
    sd["encoder.arch.head_cls.bias"] = torch.zeros(1000)
    model = load_ddcolor(sd, "with_head.pth")
    assert not any("head_cls" in k for k in model.state_dict())
    assert all(torch.equal(v, tiny_state_dict[k]) for k, v in model.state_dict().items())


def test_loading_is_strict(tiny_state_dict):
    extra = dict(tiny_state_dict, **{"decoder.surprise.weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match="extra.pth: DDColor weights do not fit"):
        load_ddcolor(extra, "extra.pth")
    missing = {k: v for k, v in tiny_state_dict.items() if not k.startswith("decoder.color_decoder.decoder_norm")}
    with pytest.raises(CheckpointError, match="missing.pth: DDColor weights do not fit"):
        load_ddcolor(missing, "missing.pth")


def test_mixin_config_must_match_the_weights(weights_dir, tmp_path):
    folder = tmp_path / "mixin"
    folder.mkdir()
    (folder / "pytorch_model.bin").symlink_to(weights_dir / "mixin" / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps({"encoder_name": "convnext-l", "num_queries": 100}))
    sd, config = read_state_dict(folder)
    with pytest.raises(CheckpointError, match="config.json says encoder_name='convnext-l'"):
        load_ddcolor(sd, folder, config)


def test_a_file_under_a_release_name_must_be_that_release(tiny_weights, tmp_path, monkeypatch):
    (tmp_path / "ddcolor_modelscope.pth").symlink_to(tiny_weights)
    monkeypatch.setenv("VIDCOLOR_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(CheckpointError, match="expected the 'modelscope' release.*found convnext-t"):
        Colorizer(model="modelscope", device="cpu", input_size=TEST_SIZE, download=False)
    (tmp_path / "ddcolor_paper_tiny.pth").symlink_to(tiny_weights)
    c = Colorizer(model="paper-tiny", device="cpu", input_size=TEST_SIZE, download=False)
    assert c.weights_path == tmp_path / "ddcolor_paper_tiny.pth"


def test_colorize_accepts_every_frame_shape(colorizer, gray_frames):
    rgb = np.repeat(gray_frames[..., None], 3, axis=3)
    batch = colorizer.colorize(gray_frames)
    assert batch.shape == (5, 48, 80, 3) and batch.dtype == np.uint8
    assert np.array_equal(colorizer.colorize(rgb), batch)  # gray and RGB gray are the same input
    assert np.array_equal(colorizer.colorize(gray_frames[2]), batch[2])
    assert np.array_equal(colorizer.colorize(rgb[2]), batch[2])
    with pytest.raises(TypeError):
        colorizer.colorize(gray_frames.astype(np.float32))
    with pytest.raises(ValueError):
        colorizer.colorize(np.zeros((2, 4, 4, 4), np.uint8))


def test_batching_does_not_change_results(tiny_weights, colorizer, gray_frames):
    one = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, batch_size=1)
    a, b = one.colorize(gray_frames).astype(int), colorizer.colorize(gray_frames).astype(int)
    assert np.abs(a - b).max() <= 1
    assert (a == b).mean() > 0.999


def test_stream_yields_in_order_for_frames_of_any_size(colorizer, gray_frames):
    frames = [gray_frames[0], moving_gray(50, 70, 3), gray_frames[1], moving_gray(33, 17, 9), gray_frames[4]]
    streamed = list(colorizer.colorize_stream(iter(frames)))
    assert [f.shape[:2] for f in streamed] == [f.shape for f in frames]
    for frame, out in zip(frames, streamed):
        # batch neighbours change fp32 ab by < 1e-4, which may flip a rounding
        assert np.abs(out.astype(int) - colorizer.colorize(frame)).max() <= 1


def test_model_maps_rgb_to_lab_ab(colorizer, gray_frames):
    x = np.stack([lab.model_input(lab.to_float(np.repeat(f[..., None], 3, 2)), TEST_SIZE) for f in gray_frames[:2]])
    with torch.inference_mode():
        ab = colorizer.model(torch.from_numpy(x))
    assert ab.shape == (2, 2, TEST_SIZE, TEST_SIZE)
    assert torch.allclose(ab, colorizer.predict_ab(x), atol=1e-4)


def test_option_validation(tiny_weights):
    from vidcolor import VidcolorError

    for kwargs, words in [({"input_size": 100}, "multiple of 32"), ({"precision": "bf16"}, "bf16 needs a CUDA"),
                          ({"device": "tpu"}, "device"), ({"batch_size": 0}, "at least 1")]:
        with pytest.raises(VidcolorError, match=words):
            Colorizer(weights=tiny_weights, **{"device": "cpu", **kwargs})
