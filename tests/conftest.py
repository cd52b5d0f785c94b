from pathlib import Path

import pytest
import torch

from ddcolor_weights import CONFIG, build_state_dict

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEST_SIZE = 64  # model input size in tests: small enough for CI, a multiple of 32


@pytest.fixture(scope="session")
def tiny_state_dict():
    return build_state_dict(seed=7)


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory, tiny_state_dict):
    """The same tiny weights in every container the loader accepts."""
    from safetensors.torch import save_file

    d = tmp_path_factory.mktemp("weights")
    sd = tiny_state_dict
    torch.save({"params": sd}, d / "params.pth")
    torch.save(sd, d / "bare.pt")
    save_file({k: v.contiguous() for k, v in sd.items()}, str(d / "model.safetensors"))
    mixin = d / "mixin"
    mixin.mkdir()
    torch.save(sd, mixin / "pytorch_model.bin")
    import json

    (mixin / "config.json").write_text(json.dumps({**CONFIG, "input_size": [512, 512]}))
    return d


@pytest.fixture(scope="session")
def tiny_weights(weights_dir):
    return weights_dir / "params.pth"


@pytest.fixture(scope="session")
def colorizer(tiny_weights):
    from vidcolor import Colorizer

    return Colorizer(weights=tiny_weights, device="cpu", input_size=TEST_SIZE)


@pytest.fixture
def shared():
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture
def cli(tiny_weights):
    """Run the real CLI in-process; returns (exit code, stderr+stdout)."""
    from click.testing import CliRunner

    from vidcolor.cli import main

    def run(*args, weights=True, quiet=True):
        extra = ["--weights", str(tiny_weights), "--input-size", str(TEST_SIZE), "--device", "cpu"] + \
            (["-q"] if quiet else []) if weights and args and args[0] not in ("weights",) else []
        result = CliRunner().invoke(main, [str(a) for a in args] + extra, catch_exceptions=False)
        return result.exit_code, result.output
    return run


def short_of_memory(monkeypatch, net, largest: int) -> list[int]:
    """Make ``net``'s network run out of memory on passes of more than ``largest`` frames (as
    CUDA reports it); returns the list the size of every pass attempted is appended to."""
    forward, seen = net.model.forward, []

    def tight(x):
        seen.append(len(x))
        if len(x) > largest:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(x)

    monkeypatch.setattr(net.model, "forward", tight)
    return seen
