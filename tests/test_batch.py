"""Batch runs on real files: mirrored folders, the manifest, resume after SIGKILL, both engines."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import TEST_SIZE
from media_factory import CUES, decoded_rgb, frame_times, moving_gray, packets, write_video

FILM_FRAMES, FPS = 200, 25
SEGMENT_SECONDS = "1"  # 25 frames: 8 segments


def model_args(weights) -> list[str]:
    return ["--weights", str(weights), "--input-size", str(TEST_SIZE), "--device", "cpu"]


def read_report(path: Path) -> dict:
    return {Path(i["input"]).name: i for i in json.loads(path.read_text())["items"]}


def manifest_rows(out: Path, sql: str) -> list:
    with sqlite3.connect(out / ".vidcolor" / "manifest.sqlite") as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A small archive: films in nested folders, a still, and a file that is not media."""
    root = tmp_path_factory.mktemp("archive")
    (root / "reels" / "1950").mkdir(parents=True)
    write_video(root / "reels" / "newsreel.mp4", frames=20, fps=FPS, audio_tracks=2)
    write_video(root / "reels" / "1950" / "home_movie.mkv", frames=12, fps=FPS)
    cv2.imwrite(str(root / "reels" / "1950" / "portrait.png"), moving_gray(64, 48, 5))
    (root / "reels" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing else")
    (root / "notes.txt").write_text("not media: not part of the batch")
    return root


def test_batch_mirrors_folders_and_one_bad_file_does_not_stop_it(cli, archive, tmp_path):
    out, report = tmp_path / "restored", tmp_path / "batch.json"
    code, output = cli("batch", archive, "-o", out, "--report", report)

    assert code == 1, output  # one item failed
    assert "1 failed" in output and "Traceback" not in output
    items = read_report(report)
    assert set(items) == {"newsreel.mp4", "home_movie.mkv", "portrait.png", "broken.mp4"}
    assert items["broken.mp4"]["state"] == "failed"
    assert "broken.mp4" in items["broken.mp4"]["error"] and "\n" not in items["broken.mp4"]["error"]
    for name in ("newsreel.mp4", "home_movie.mkv", "portrait.png"):
        assert items[name]["state"] == "done", items[name]

    film = out / "reels" / "newsreel.mp4"
    assert frame_times(film) == frame_times(archive / "reels" / "newsreel.mp4")
    assert packets(film, "audio") == packets(archive / "reels" / "newsreel.mp4", "audio")
    assert len(frame_times(out / "reels" / "1950" / "home_movie.mkv")) == 12
    still = cv2.imread(str(out / "reels" / "1950" / "portrait.png"))
    assert still.shape == (48, 64, 3) and np.abs(still[..., 0].astype(int) - still[..., 2]).mean() > 2
    assert not (out / "reels" / "broken.mp4").exists()
    assert not any(p.name.startswith(".") for p in out.rglob("*") if ".vidcolor" not in p.parts)

    rows = dict(manifest_rows(out, "SELECT output, state FROM items"))
    assert rows == {"reels/newsreel.mp4": "done", "reels/1950/home_movie.mkv": "done",
                    "reels/1950/portrait.png": "done", "reels/broken.mp4": "failed"}
    # The recorded checksum is the output's.
    import hashlib
    (sha,), = manifest_rows(out, "SELECT output_sha256 FROM items WHERE output = 'reels/newsreel.mp4'")
    assert sha == hashlib.sha256(film.read_bytes()).hexdigest()


def test_rerun_skips_done_redoes_changed_and_retries_failed_when_asked(cli, archive, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for f in ("reels/newsreel.mp4", "reels/broken.mp4", "reels/1950/portrait.png"):
        (src / Path(f).name).write_bytes((archive / f).read_bytes())
    out, report = tmp_path / "out", tmp_path / "r.json"
    assert cli("batch", src, "-o", out)[0] == 1
    done_bytes = (out / "portrait.png").read_bytes()
    mtime = (out / "newsreel.mp4").stat().st_mtime_ns

    # Unchanged: nothing is colorized again; the failure stays until asked to retry.
    code, output = cli("batch", src, "-o", out, "--report", report)
    assert code == 1, output
    items = read_report(report)
    assert items["newsreel.mp4"]["skipped"] and items["newsreel.mp4"]["colorized_now"] == 0
    assert items["broken.mp4"]["skipped"] and items["broken.mp4"]["state"] == "failed"
    assert (out / "newsreel.mp4").stat().st_mtime_ns == mtime

    # A changed input is redone; a retried failure runs again (and fails again, recorded).
    write_video(src / "newsreel.mp4", frames=16, fps=FPS)
    code, output = cli("batch", src, "-o", out, "--report", report, "--retry-failed")
    items = read_report(report)
    assert not items["newsreel.mp4"]["skipped"] and items["newsreel.mp4"]["frames"] == 16
    assert len(frame_times(out / "newsreel.mp4")) == 16
    assert not items["broken.mp4"]["skipped"] and items["broken.mp4"]["state"] == "failed"
    assert items["portrait.png"]["skipped"] and (out / "portrait.png").read_bytes() == done_bytes
    (attempts,), = manifest_rows(out, "SELECT attempts FROM items WHERE output = 'broken.mp4'")
    assert attempts == 2

    # Other settings make every finished item stale.
    items_before = manifest_rows(out, "SELECT output, output_sha256 FROM items WHERE state = 'done'")
    code, output = cli("batch", src, "-o", out, "--report", report, "--no-smooth")
    items = read_report(report)
    assert not items["newsreel.mp4"]["skipped"] and items["newsreel.mp4"]["colorized_now"] == 16
    assert dict(manifest_rows(out, "SELECT output, output_sha256 FROM items WHERE state = 'done'")) != dict(items_before)

    code, output = cli("batch", "--status", out)
    assert code == 0, output
    assert "2 done, 1 failed" in output and "broken.mp4" in output


def test_existing_files_in_the_output_folder_are_not_overwritten(cli, archive, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "newsreel.mp4").write_bytes(b"someone else's file")
    code, output = cli("batch", archive / "reels" / "newsreel.mp4", "-o", out)
    assert code == 1 and "already exists" in output
    assert (out / "newsreel.mp4").read_bytes() == b"someone else's file"


def test_bad_batch_arguments_are_one_line_errors(cli, tmp_path):
    code, output = cli("batch", tmp_path / "nothing_here", "-o", tmp_path / "out")
    assert code == 1 and "no such file or folder" in output
    code, output = cli("batch", "--status", tmp_path)
    assert code == 1 and "no batch here" in output


# -- films cut into segments: seamless, and resumed after a crash ------------------------------
@pytest.fixture(scope="module")
def long_film(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("film") / "film.mkv", frames=FILM_FRAMES, fps=FPS)


@pytest.fixture(scope="module")
def uninterrupted(long_film, tmp_path_factory, tiny_weights):
    """The film colorized in one piece by the single-file command, losslessly."""
    out = tmp_path_factory.mktemp("reference") / "film.mkv"
    subprocess.run([sys.executable, "-m", "vidcolor", long_film, "-o", out, "--codec", "ffv1", "-q",
                    *model_args(tiny_weights)], check=True)
    return out


@pytest.fixture(scope="module")
def ray_address():
    pytest.importorskip("ray")
    port = "6391"
    started = subprocess.run(["ray", "start", "--head", "--num-cpus", "2", "--port", port, "--include-dashboard",
                              "false", "--disable-usage-stats"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"ray start failed: {started.stderr[-2000:]}")
    yield "auto"  # the cluster this machine runs (it may require Ray's token, which "auto" finds)
    subprocess.run(["ray", "stop", "--force"], capture_output=True)


def engine_args(engine: str, request) -> list[str]:
    if engine == "local":
        return []
    return ["--engine", "ray", "--address", request.getfixturevalue("ray_address")]


@pytest.mark.slow  # local about 75 s, ray about 170 s; killed runs resume in the default run (test_resume, test_web_faults)
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_dead_workers_are_replaced_and_a_killed_batch_resumes_from_its_last_segment(
        engine, request, long_film, uninterrupted, tiny_weights, tmp_path):
    out, report = tmp_path / "out", tmp_path / "resume.json"
    command = [sys.executable, "-m", "vidcolor", "batch", long_film, "-o", out, "--codec", "ffv1",
               "--segment-seconds", SEGMENT_SECONDS, "-q", *model_args(tiny_weights), *engine_args(engine, request)]
    first = subprocess.Popen([str(c) for c in command], stderr=subprocess.PIPE, text=True)
    try:
        # A worker killed in the middle of a segment: a new one takes the segment over.
        _wait(first, lambda: _segments_done(out) >= 1 and _workers(engine, first.pid))
        killed = _workers(engine, first.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        after_kill = _segments_done(out)
        _wait(first, lambda: _segments_done(out) >= after_kill + 2)
        assert not set(killed) & set(_workers(engine, first.pid))
    finally:
        if first.poll() is None:  # and then the whole batch, part-way
            os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not (out / "film.mkv").exists()
    done_before = _segments_done(out)
    assert done_before < 8

    second = subprocess.run([str(c) for c in [*command, "--report", report]], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    item = read_report(report)["film.mkv"]
    assert item["state"] == "done" and item["segments"] == 8
    assert item["segments_resumed"] >= done_before
    # The second run did only the rest: its frames written and colorized (with a few frames of
    # context per segment, which keep the smoothing seamless) are those of the missing segments.
    frames_resumed = item["segments_resumed"] * FILM_FRAMES // 8
    assert item["frames_now"] == FILM_FRAMES - frames_resumed
    assert item["frames_now"] <= item["colorized_now"] <= item["frames_now"] + 17 * (8 - item["segments_resumed"])

    # Complete and correct: the same frames, pixel for pixel, and timestamps as one uninterrupted run.
    assert frame_times(out / "film.mkv") == frame_times(uninterrupted) == frame_times(long_film)
    assert all(np.array_equal(a, b) for a, b in zip(decoded_rgb(out / "film.mkv"), decoded_rgb(uninterrupted)))
    assert packets(out / "film.mkv", "audio") == packets(long_film, "audio")
    assert not any((out / ".vidcolor" / "work").iterdir())  # the segments are cleaned up


@pytest.mark.slow  # about 60 s
def test_a_part_of_a_film_in_segments_equals_the_same_part_in_one_piece(cli, long_film, tmp_path):
    out, one_piece = tmp_path / "out", tmp_path / "one_piece.mkv"
    part = ["--start", "1.5", "--duration", "4", "--codec", "ffv1"]
    code, output = cli("batch", long_film, "-o", out, "--segment-seconds", SEGMENT_SECONDS, "--report",
                       tmp_path / "r.json", *part)
    assert code == 0, output
    assert read_report(tmp_path / "r.json")["film.mkv"]["segments"] == 4
    assert cli(long_film, "-o", one_piece, *part)[0] == 0
    times = frame_times(out / "film.mkv")
    assert len(times) == 100 and times[0] < Fraction(1, FPS) and times == frame_times(one_piece)
    assert all(np.array_equal(a, b) for a, b in zip(decoded_rgb(out / "film.mkv"), decoded_rgb(one_piece)))


def _wait(driver: subprocess.Popen, condition, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert driver.poll() is None, f"the batch ended too soon: {driver.stderr.read()}"
        assert time.monotonic() < deadline, "the batch made no progress in time"
        time.sleep(0.2)


@pytest.mark.slow  # about 55 s
def test_h264_segments_join_into_one_stream_with_every_timestamp(cli, tmp_path):
    out, report = tmp_path / "out", tmp_path / "r.json"
    film = tmp_path / "film.mp4"
    write_video(film, frames=60, fps=FPS, audio_tracks=2, subtitles=("dvdsub",))
    code, output = cli("batch", film, "-o", out, "--segment-seconds", "0.8", "--report", report)
    assert code == 0, output
    assert read_report(report)["film.mp4"]["segments"] == 3
    assert frame_times(out / "film.mp4") == frame_times(film)
    assert packets(out / "film.mp4", "audio") == packets(film, "audio")
    dvd = packets(film, "subtitle")
    assert len(dvd[0]) == len(CUES) and packets(out / "film.mp4", "subtitle") == dvd  # bitmaps, byte for byte
    # One stream made of the three segments as they were encoded: each starts on a keyframe.
    with av.open(str(out / "film.mp4")) as c:
        keyframes = [i for i, p in enumerate(sorted((p for p in c.demux(c.streams.video[0]) if p.size),
                                                    key=lambda p: p.pts)) if p.is_keyframe]
    assert keyframes == [0, 20, 40]
    with av.open(str(out / "film.mp4")) as c:  # joined by the driver, it says how it was made
        made = json.loads(c.metadata["comment"])
    assert made["source"] == "film.mp4" and made["settings"]["segments"] == 3
    # Encoded in pieces, so not bit-identical to one encode: but no further from the true colors
    # (a lossless one-piece run) than one encode is.
    one_piece, lossless = tmp_path / "one_piece.mp4", tmp_path / "lossless.mkv"
    assert cli(film, "-o", one_piece)[0] == 0
    assert cli(film, "-o", lossless, "--codec", "ffv1", "--pix-fmt", "yuv444p")[0] == 0
    truth = decoded_rgb(lossless)

    def error(path):
        frames = decoded_rgb(path)
        assert len(frames) == 60
        return np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(frames, truth)])

    assert error(out / "film.mp4") < 1.15 * error(one_piece)


def _segments_done(out: Path) -> int:
    if not (out / ".vidcolor" / "manifest.sqlite").exists():
        return 0
    try:
        (n,), = manifest_rows(out, "SELECT COUNT(*) FROM segments")
    except sqlite3.OperationalError:  # the driver is still creating it
        return 0
    return n


def _workers(engine: str, driver: int) -> list[int]:
    """The processes running the batch's model: the driver's spawned children, or Ray's actors."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if engine == "local" and ppid == driver and "spawn_main" in cmdline:
            found.append(int(proc.name))
        if engine == "ray" and cmdline.startswith("ray::Worker"):
            found.append(int(proc.name))
    return found
