"""Every kind of bad input ends with one clear line naming the file, a non-zero exit, no output."""
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from media_factory import write_video

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("in") / "film.mp4", frames=12)


def assert_clean_failure(code, output, *words, folder=None, exit_code=1):
    assert code == exit_code, output
    lines = [line for line in output.strip().splitlines() if line]
    assert len(lines) == 1, output
    assert lines[0].startswith("vidcolor: error: ")
    assert "Traceback" not in output
    for word in words:
        assert str(word) in lines[0]
    if folder is not None:
        leftovers = [p.name for p in Path(folder).iterdir() if p.name.startswith(".") or p.suffix == ".mp4"]
        assert leftovers == [], leftovers


def test_missing_file(cli, tmp_path):
    code, out = cli(tmp_path / "nope.mp4", "-o", tmp_path / "out.mp4")
    assert_clean_failure(code, out, tmp_path / "nope.mp4", "no such file", folder=tmp_path)


def test_not_a_video(cli, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 100)
    code, out = cli(bad, "-o", tmp_path / "out.mkv")
    assert_clean_failure(code, out, bad, "not a readable video")


def test_empty_file(cli, tmp_path):
    bad = tmp_path / "empty.mov"
    bad.touch()
    assert_clean_failure(*cli(bad, "-o", tmp_path / "out.mp4"), bad, "empty file")


def test_audio_only_file_has_no_video_stream(cli, tmp_path):
    audio = tmp_path / "tone.m4a"
    with av.open(str(audio), "w") as out:
        s = out.add_stream("aac", rate=44100)
        for i in range(20):
            f = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            f.sample_rate, f.pts = 44100, i * 1024
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    code, out = cli(audio, "-o", tmp_path / "out.mp4")
    assert_clean_failure(code, out, audio, "no video stream", "audio", folder=tmp_path)


def test_truncated_file_without_index(cli, film, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(film.read_bytes()[: film.stat().st_size // 2])  # the index (moov) is at the end
    assert_clean_failure(*cli(cut, "-o", tmp_path / "out.mp4"), cut, "not a readable video")


def test_truncated_file_with_index_first(cli, tmp_path):
    whole = write_video(tmp_path / "fast.mp4", frames=40, audio=False,
                        container_options={"movflags": "+faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    out = tmp_path / "out.mp4"
    code, output = cli(cut, "-o", out)
    assert_clean_failure(code, output, cut, "truncated", "of the 40 frames")
    assert not out.exists()


def test_output_equal_to_input(cli, film, tmp_path):
    before = film.read_bytes()
    code, out = cli(film, "-o", film, "--overwrite")
    assert_clean_failure(code, out, film, "the output is the input")
    assert film.read_bytes() == before


def test_output_folder_missing(cli, film, tmp_path):
    code, out = cli(film, "-o", tmp_path / "no" / "such" / "out.mp4")
    assert_clean_failure(code, out, "does not exist")


def test_unwritable_destination(cli, film, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    target = locked / "out.mp4"
    if Path("/proc").is_dir() and _can_write(locked):  # root ignores modes; procfs refuses everyone
        target = Path("/proc/vidcolor-out.mp4")
    code, out = cli(film, "-o", target)
    assert_clean_failure(code, out, "not writable" if target.parent == locked else "cannot write")


def _can_write(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
        (folder / "probe").unlink()
        return True
    except OSError:
        return False


def test_unknown_output_format(cli, film, tmp_path):
    code, out = cli(film, "-o", tmp_path / "out.notaformat")
    assert_clean_failure(code, out, "out.notaformat", folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_of_another_architecture(cli, film, tmp_path):
    from spandrel.architectures.Compact import Compact

    esrgan = tmp_path / "realesr.pth"
    torch.save(Compact().state_dict(), esrgan)
    code, out = cli(film, "-o", tmp_path / "out.mp4", "--weights", esrgan, weights=False)
    assert_clean_failure(code, out, esrgan, "not a DDColor checkpoint", "Compact", folder=tmp_path)


def test_checkpoint_that_is_not_a_checkpoint(cli, film, tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00garbage" * 100)
    code, out = cli(film, "-o", tmp_path / "out.mp4", "--weights", junk, weights=False)
    assert_clean_failure(code, out, junk, "not a readable checkpoint")


class _Runs:
    def __reduce__(self):  # what a malicious pickle does: call something on load
        return (os.system, ("true",))


@pytest.mark.parametrize("payload", [Path("/etc/passwd"), _Runs()], ids=["object", "call"])
def test_checkpoint_with_python_objects_is_refused(cli, film, tmp_path, payload):
    # torch words the two refusals differently (2.14: "unsupported GLOBAL posix.system whose module
    # posix is blocked"); both are the same clear line.
    evil = tmp_path / "evil.pth"
    torch.save({"params": {"x": torch.zeros(1)}, "hook": payload}, evil)
    code, out = cli(film, "-o", tmp_path / "out.mp4", "--weights", evil, weights=False)
    assert_clean_failure(code, out, evil, "not a safe checkpoint")


def test_bad_options(cli, film, tmp_path):
    assert_clean_failure(*cli(film, "-o", tmp_path / "o.mp4", "--start", "soon"), "--start", "soon")
    assert_clean_failure(*cli(film, "-o", tmp_path / "o.mp4", "--codec", "nosuchcodec"), "nosuchcodec")
    assert_clean_failure(*cli(film, "-o", tmp_path / "o.mp4", "--pix-fmt", "p010le"), "p010le")
    code, out = cli(film, "-o", tmp_path / "o.mp4", "--weights", tmp_path / "none.pth", weights=False)
    assert_clean_failure(code, out, "none.pth", "no such weights file")


def test_interrupted_run_leaves_no_output(cli, film, tmp_path, monkeypatch):
    from vidcolor.models import colorizer

    calls = []
    real = colorizer.Colorizer.infer

    def interrupt_on_second_batch(self, inputs):
        calls.append(len(inputs))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, inputs)

    monkeypatch.setattr(colorizer.Colorizer, "infer", interrupt_on_second_batch)
    code, out = cli(film, "-o", tmp_path / "out.mp4")
    assert_clean_failure(code, out, "interrupted", folder=tmp_path, exit_code=130)
    assert list(tmp_path.iterdir()) == []


def test_real_process_exit_code_and_single_line(film, tmp_path):
    """Through the installed entry point in a fresh interpreter, as a user runs it."""
    result = subprocess.run([sys.executable, "-m", "vidcolor", str(tmp_path / "missing.mp4"), "-o",
                             str(tmp_path / "o.mp4")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"vidcolor: error: {tmp_path / 'missing.mp4'}: no such file"]


def test_offline_download_stops_at_once_with_exit_code_2(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HF_ENDPOINT": "http://127.0.0.1:9", "VIDCOLOR_WEIGHTS_DIR": str(tmp_path / "none")}
    film = write_video(tmp_path / "f.mp4", frames=2, audio=False)
    result = subprocess.run([sys.executable, "-m", "vidcolor", str(film), "-o", str(tmp_path / "o.mp4"),
                             "--model", "paper-tiny"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ddcolor_paper_tiny.pth" in line and "weights/" in line and "could not be downloaded" in line
    assert not (tmp_path / "o.mp4").exists()


def _small_disk_available() -> bool:
    """A private mount namespace where a 256 KiB tmpfs can be mounted (user namespaces, or root)."""
    try:
        return subprocess.run(["unshare", "-Urm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _small_disk_available(), reason="needs unshare (user and mount namespaces)")
def test_disk_that_fills_up_during_the_run(tiny_weights, tmp_path):
    """A real full disk: the output folder is a 256 KiB tmpfs, the lossless film needs more."""
    src = write_video(tmp_path / "film.mkv", frames=48)
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "out.mkv"
    script = (f"mount -t tmpfs -o size=256k tmpfs {disk} && {sys.executable} -m vidcolor {src} -o {out} "
              f"--preset archive --weights {tiny_weights} --input-size 64 --device cpu -q; "
              f"echo exit=$?; ls -A {disk}")
    result = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.stdout.split() == ["exit=1"], result.stdout  # nothing left on the disk
    assert result.stderr.strip().splitlines() == [
        f"vidcolor: error: {out}: the disk is full (No space left on device); the partial output was removed"]
