"""Finding and downloading weights, through the real CLI against a local stand-in for the Hub."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_hub import FakeHub
from vidcolor.models import MODELS, weights

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, env):
    base = {"PATH": os.environ.get("PATH", ""), "HOME": env["HOME"]}
    return subprocess.run([sys.executable, "-m", "vidcolor", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**base, **env}, timeout=120)


@pytest.fixture
def hub_env(tmp_path):
    return {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "VIDCOLOR_WEIGHTS_DIR": str(tmp_path / "mine")}


def test_download_verifies_and_caches_then_list_shows_it(hub_env, tmp_path):
    data = os.urandom(200_000)
    with FakeHub({"ddcolor_paper_tiny.pth": data}) as hub:
        result = run_cli("weights", "download", "paper-tiny", "-q", env={**hub_env, "HF_ENDPOINT": hub.url})
    assert result.returncode == 0, result.stderr
    cached = tmp_path / "cache" / "vidcolor" / "ddcolor_paper_tiny.pth"
    assert cached.read_bytes() == data
    assert result.stdout.strip() == f"paper-tiny: {cached}"
    listing = run_cli("weights", "list", env=hub_env).stdout
    row = next(line for line in listing.splitlines() if line.startswith("paper-tiny"))
    assert str(cached) in row and "0 MB" in row
    assert "missing" in next(line for line in listing.splitlines() if line.startswith("modelscope"))


def test_download_progress_is_the_runs_events(hub_env, tmp_path):
    data = os.urandom(300_000)
    with FakeHub({"ddcolor_paper_tiny.pth": data}) as hub:
        result = run_cli("weights", "download", "paper-tiny", env={**hub_env, "HF_ENDPOINT": hub.url})
    assert result.returncode == 0, result.stderr
    # One bar, drawn from the "download" task's events: the bytes of the file, in KiB.
    final = result.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("downloading ddcolor_paper_tiny.pth: 100%") and "293k/293k" in final, result.stderr


def test_corrupted_download_is_removed_with_exit_code_2(hub_env, tmp_path):
    data = os.urandom(50_000)
    wrong = "ab" * 32  # a well-formed sha256 that is not the content's
    with FakeHub({"ddcolor_paper_tiny.pth": data}, etag_override={"ddcolor_paper_tiny.pth": wrong}) as hub:
        result = run_cli("weights", "download", "paper-tiny", "-q", env={**hub_env, "HF_ENDPOINT": hub.url})
    assert result.returncode == 2
    assert "download corrupted (sha256 does not match" in result.stderr
    assert not (tmp_path / "cache" / "vidcolor" / "ddcolor_paper_tiny.pth").exists()


def test_file_missing_on_the_hub(hub_env):
    with FakeHub({}) as hub:
        result = run_cli("weights", "download", "artistic", "-q", env={**hub_env, "HF_ENDPOINT": hub.url})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ddcolor_artistic.pth" in line and "could not be downloaded" in line


def test_lookup_order(tmp_path, monkeypatch):
    model = MODELS["paper"]
    mine, project, cache = tmp_path / "mine", tmp_path / "project", tmp_path / "xdg" / "vidcolor"
    for folder in (mine, project, cache):
        folder.mkdir(parents=True)
    monkeypatch.setattr(weights, "PROJECT_WEIGHTS", project)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VIDCOLOR_WEIGHTS_DIR", str(mine))
    assert weights.find_weights(model) is None
    for folder in (cache, project, mine):
        (folder / model.filename).write_bytes(b"x")
        assert weights.find_weights(model) == folder / model.filename


def test_hf_hub_offline_is_honoured_at_once(hub_env, tmp_path):
    film = tmp_path / "f.mp4"
    from media_factory import write_video

    write_video(film, frames=2, audio=False)
    result = run_cli(film, "-o", tmp_path / "o.mp4", env={**hub_env, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2
    assert "HF_HUB_OFFLINE is set" in result.stderr and "ddcolor_modelscope.pth" in result.stderr
