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


@pytest.fixture(autouse=True, scope="session")
def networks_loaded_once():
    """Runs in the tests' process load the tests' network once for each set of options, as a
    long-lived process would (a run reuses nothing between calls): loading costs 1.5 s a run,
    and is tested on its own (test_models, test_weights). A weights file changed on disk, or a
    thread plan a test replaces, is loaded again."""
    import os

    import vidcolor.models.colorizer as models
    import vidcolor.run.colorizer as run

    real, cache = run.Colorizer, {}

    def loaded(progress=None, **kwargs):
        weights = kwargs.get("weights")
        if weights is None or not os.path.isfile(weights):
            return real(progress=progress, **kwargs)  # named models go through the download, every time
        st = os.stat(weights)
        key = (tuple(sorted(kwargs.items())), st.st_size, st.st_mtime_ns, models.plan_threads)
        if key not in cache:
            while len(cache) >= 2:  # a test alternates two at most; memory stays bounded
                cache.pop(next(iter(cache)))
            cache[key] = real(progress=progress, **kwargs)
        return cache[key]

    run.Colorizer = loaded
    yield
    run.Colorizer = real


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
