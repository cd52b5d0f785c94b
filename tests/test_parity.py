"""Parity with the official DDColor: the public fixture, and the contract at other sizes."""
import importlib.util

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import TEST_SIZE
from media_factory import moving_gray
from vidcolor import Colorizer


@pytest.fixture(scope="module")
def recipe_weights(tmp_path_factory):
    """The fixture's own weights, built by ../shared/ddcolor/make_weights.py."""
    from conftest import SHARED

    folder = SHARED / "ddcolor"
    if not folder.is_dir():
        pytest.skip("../shared/ddcolor is not present")
    spec = importlib.util.spec_from_file_location("make_weights", folder / "make_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = module.make_state(str(folder / "ddcolor_keys_tiny.json"), seed=20240601)
    path = tmp_path_factory.mktemp("recipe") / "ddcolor_recipe_tiny.pth"
    torch.save({"params": {k: torch.from_numpy(v) for k, v in state.items()}}, path)
    return path, folder


def test_model_output_matches_the_fixture(recipe_weights):
    path, folder = recipe_weights
    c = Colorizer(weights=path, device="cpu", input_size=128, parity=True)
    x, expected = np.load(folder / "tiny_x128_in.npy"), np.load(folder / "tiny_x128_out.npy")
    ab = c.predict_ab(x).numpy()
    assert np.abs(ab - expected).max() <= 5e-4
    assert np.linalg.norm(ab - expected) / np.linalg.norm(expected) <= 5e-6


def test_still_through_the_cli_matches_the_official_output(recipe_weights, tmp_path):
    from click.testing import CliRunner

    from vidcolor.cli import main

    path, folder = recipe_weights
    out = tmp_path / "out.png"
    result = CliRunner().invoke(main, [str(folder / "e2e_gray_120x200_input.png"), "-o", str(out), "--weights",
                                       str(path), "--input-size", "128", "--parity", "--device", "cpu", "-q"])
    assert result.exit_code == 0, result.output
    ours = cv2.imread(str(out)).astype(int)
    official = cv2.imread(str(folder / "e2e_gray_120x200_S128_output.png")).astype(int)
    assert ours.shape == official.shape == (120, 200, 3)
    assert np.abs(ours - official).max() <= 1
    assert (ours == official).mean() >= 0.999


def test_pre_and_post_processing_match_the_fixture_tensors(recipe_weights):
    from vidcolor import lab

    _, folder = recipe_weights
    bgr = cv2.imread(str(folder / "e2e_gray_120x200_input.png"))
    x = lab.model_input(lab.to_float(bgr), 128, "bgr")
    assert np.abs(x - np.load(folder / "e2e_gray_120x200_S128_model_in.npy")[0]).max() <= 1e-6


def official_contract(bgr: np.ndarray, model: torch.nn.Module, size: int) -> np.ndarray:
    """The README's nine steps, written out plainly as the oracle."""
    img = (bgr / 255.0).astype(np.float32)
    orig_l = cv2.cvtColor(img, cv2.COLOR_BGR2Lab)[:, :, :1]
    small = cv2.resize(img, (size, size))
    small_l = cv2.cvtColor(small, cv2.COLOR_BGR2Lab)[:, :, :1]
    gray_lab = np.concatenate([small_l, np.zeros_like(small_l), np.zeros_like(small_l)], axis=-1)
    gray_rgb = cv2.cvtColor(gray_lab, cv2.COLOR_LAB2RGB)
    with torch.inference_mode():
        ab = model(torch.from_numpy(gray_rgb.transpose(2, 0, 1)).float().unsqueeze(0))
    ab = F.interpolate(ab, size=bgr.shape[:2])[0].float().numpy().transpose(1, 2, 0)
    out = cv2.cvtColor(np.concatenate([orig_l, ab], axis=-1), cv2.COLOR_LAB2BGR)
    return (out * 255.0).round().astype(np.uint8)


@pytest.mark.parametrize("height,width", [(37, 91), (120, 64), (33, 33), (97, 250)])
def test_parity_mode_follows_the_contract_at_any_size(colorizer, tiny_weights, height, width):
    parity = Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE, parity=True, batch_size=1)
    gray = moving_gray(width, height, 5)
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    # A slight tint: only the lightness may be used, whatever the channels say.
    bgr[:, :, 0] = np.clip(bgr[:, :, 0].astype(int) + 9, 0, 255)
    expected = official_contract(bgr, parity.model, TEST_SIZE)
    assert np.array_equal(parity.colorize(bgr, order="bgr"), expected)
    # RGB order computes the same Lab with the coefficients in another order: last-bit only.
    rgb_out = parity.colorize(bgr[:, :, ::-1].copy())[:, :, ::-1].astype(int)
    assert np.abs(rgb_out - expected).max() <= 1 and (rgb_out == expected).mean() >= 0.999
    # The default mode differs only in chroma upsampling: lightness within gamut clipping.
    default = colorizer.colorize(bgr, order="bgr")
    lab_a = cv2.cvtColor(default, cv2.COLOR_BGR2Lab).astype(int)
    lab_b = cv2.cvtColor(expected, cv2.COLOR_BGR2Lab).astype(int)
    assert np.percentile(np.abs(lab_a[:, :, 0] - lab_b[:, :, 0]), 95) <= 1
