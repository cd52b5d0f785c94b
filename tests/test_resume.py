"""The single-file command resumes: a film of several segments killed part-way (SIGKILL, Ctrl-C,
SIGTERM) is finished by the same command, which colorizes only what was missing, and the result
is pixel for pixel that of an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import TEST_SIZE
from media_factory import decoded_rgb, frame_times, packets, write_video

FRAMES, FPS, SEGMENT = 120, 25, "0.8"  # 20 frames a segment: 6 segments
SEGMENTS = 6


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("film") / "film.mkv", frames=FRAMES, fps=FPS)


@pytest.fixture(scope="module")
def uninterrupted(film, tmp_path_factory, tiny_weights):
    out = tmp_path_factory.mktemp("one_piece") / "film.mkv"
    subprocess.run(command(film, out, tiny_weights, "--segment-seconds", "1000"), check=True)
    return out


def command(src: Path, dst: Path, weights: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "vidcolor", str(src), "-o", str(dst), "--codec", "ffv1", "--weights", str(weights),
            "--input-size", str(TEST_SIZE), "--device", "cpu", "-q", *extra]


def segments_done(dst: Path) -> int:
    db = dst.parent / f".{dst.name}.vidcolor" / "manifest.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    except sqlite3.OperationalError:  # being created
        return 0


def same_film(a: Path, b: Path) -> bool:
    return frame_times(a) == frame_times(b) and \
        all(np.array_equal(x, y) for x, y in zip(decoded_rgb(a), decoded_rgb(b), strict=True))


@pytest.mark.parametrize("sig, code", [  # SIGKILL in the default run; the others, about 45 s each, when slow
    (signal.SIGKILL, -signal.SIGKILL), pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow),
    pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)], ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_a_killed_run_resumes_where_it_stopped(sig, code, film, uninterrupted, tiny_weights, cli, tmp_path):
    out = tmp_path / "film.mkv"
    first = subprocess.Popen(command(film, out, tiny_weights, "--segment-seconds", SEGMENT),
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while segments_done(out) < 2:
        assert first.poll() is None, f"the run ended too soon: {first.stderr.read()}"
        assert time.monotonic() < deadline, "the run made no progress in time"
        time.sleep(0.1)
    os.kill(first.pid, sig)
    error = first.communicate(timeout=60)[1]
    assert first.returncode == code, error
    if sig != signal.SIGKILL:
        assert "Traceback" not in error and len(error.strip().splitlines()) == 1, error
        assert f"of {SEGMENTS} segments are kept" in error and "run the same command again to resume" in error
    assert not out.exists()
    kept = segments_done(out)
    assert 2 <= kept < SEGMENTS

    code, output = cli(film, "-o", out, "--codec", "ffv1", "--segment-seconds", SEGMENT, quiet=False)
    assert code == 0, output
    assert f"resuming: {kept} of {SEGMENTS} segments done" in output
    assert f"{FRAMES} frame(s) ({kept * FRAMES // SEGMENTS} made by the interrupted run)" in output
    assert same_film(out, uninterrupted)
    assert packets(out, "audio") == packets(film, "audio")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mkv"]  # no work folder, no partial file


def interrupt_after(monkeypatch, segments: int) -> None:
    """Make the next run in this process stop as Ctrl-C would once ``segments`` are finished."""
    from vidcolor.resume import resumable

    real, calls = resumable.colorize_segment, []

    def segment(*args, **kwargs):
        if len(calls) == segments:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(resumable, "colorize_segment", segment)


@pytest.mark.slow  # about 22 s; tests/test_options.py checks which settings void earlier work
def test_other_options_or_fresh_discard_the_interrupted_work(film, cli, tmp_path, monkeypatch):
    out = tmp_path / "film.mkv"
    run = ("--codec", "ffv1", "--segment-seconds", SEGMENT)
    with monkeypatch.context() as m:
        interrupt_after(m, 2)
        code, output = cli(film, "-o", out, *run)
    assert code == 130 and f"2 of {SEGMENTS} segments are kept" in output
    assert segments_done(out) == 2

    with monkeypatch.context() as m:
        interrupt_after(m, 3)
        code, output = cli(film, "-o", out, *run, "--smooth-strength", "0.3", quiet=False)
    assert code == 130
    assert "the interrupted run's 2 finished segment(s) are discarded: the options or the weights changed" \
        in output
    assert segments_done(out) == 3

    code, output = cli(film, "-o", out, *run, "--smooth-strength", "0.3", "--fresh", quiet=False)
    assert code == 0, output
    assert "the interrupted run's 3 finished segment(s) are discarded: a fresh start was asked for" in output
    assert "made by the interrupted run" not in output and f"{FRAMES} frame(s)" in output
    assert len(frame_times(out)) == FRAMES
    with av.open(str(out)) as c:  # joined from segments, it says how it was made as a one-piece run does
        made = json.loads({k.lower(): v for k, v in c.metadata.items()}["comment"])
    assert made["source"] == film.name and made["settings"]["smooth_strength"] == 0.3


def test_auto_segments_are_sized_by_the_first_ones_pace_and_kept_for_the_resume(film, uninterrupted, cli, tmp_path,
                                                                                 monkeypatch):
    """By default a segment is about a minute of work at the pace of the first (here a shorter
    target, for a short film); an interrupted run's sizes are the resumed run's, whatever its pace."""
    from vidcolor.resume import resumable
    from vidcolor.resume.segments import first_segment

    out = tmp_path / "film.mkv"
    with av.open(str(film)) as c:
        first = first_segment(c.streams.video[0], 0.5, resumable.MIN_SEGMENT_SECONDS)
    assert first == 50  # 2 s of film at 25 frames a second
    paces = []
    real = resumable.segment_frames
    monkeypatch.setattr(resumable, "segment_frames", lambda *a: paces.append(a[1]) or real(*a))
    with monkeypatch.context() as m:
        m.setattr(resumable, "SEGMENT_WORK", 1e-9)  # as short as allowed: 50, 50 and 20 frames
        interrupt_after(m, 2)
        code, output = cli(film, "-o", out, "--codec", "ffv1")
    assert code == 130 and "2 of 3 segments are kept" in output, output
    assert len(paces) == 1 and paces[0] > 0  # measured once, on the first segment
    monkeypatch.setattr(resumable, "SEGMENT_WORK", 1e9)  # a new plan would be one long segment after the first
    code, output = cli(film, "-o", out, "--codec", "ffv1", quiet=False)
    assert code == 0, output
    assert "resuming: 2 of 3 segments done" in output and len(paces) == 1
    assert same_film(out, uninterrupted)


def test_a_segments_length_in_frames_from_the_pace():
    from vidcolor.resume.segments import segment_frames

    assert segment_frames(50, 1 / 4.5, 60.0) == 50  # ConvNeXt-L on 2 CPU cores: never under the first
    assert segment_frames(50, 80.0, 60.0) == 4800  # on an H100
    assert segment_frames(50, None, 60.0) == segment_frames(50, float("nan"), 60.0) == 50


def test_a_second_run_on_the_same_output_is_refused(film, cli, tmp_path):
    from vidcolor.resume.manifest import Manifest

    out = tmp_path / "film.mkv"
    held = Manifest(tmp_path, folder=f".{out.name}.vidcolor")  # as a run in progress holds it
    try:
        code, output = cli(film, "-o", out, "--segment-seconds", SEGMENT)
    finally:
        held.close()
    assert code == 1 and "another vidcolor run is working here" in output
    assert not out.exists()


def test_partial_files_of_killed_runs_are_removed(cli, tmp_path):
    import fcntl

    src = write_video(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "out.mp4"
    stale, live = tmp_path / ".out.k3j9x2.partial.mp4", tmp_path / ".out.a8b7c6.partial.mp4"
    stale.write_bytes(b"left by a run killed with SIGKILL")
    live.write_bytes(b"being written by another run")
    with open(live, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # what a writer holds while it writes
        code, output = cli(src, "-o", out)
    assert code == 0, output
    assert not stale.exists() and live.exists() and len(frame_times(out)) == 6


@pytest.mark.slow  # about 13 s
def test_a_film_that_must_be_done_in_one_piece_says_it_cannot_resume(film, cli, tmp_path):
    out = tmp_path / "film.mkv"
    code, output = cli(film, "-o", out, "--segment-seconds", "2", "--report", tmp_path / "q.json", "--no-smooth",
                       quiet=False)
    assert code == 0, output
    assert output.count("cannot resume if interrupted: --report measures the whole film in one pass") == 1
    assert not (tmp_path / f".{out.name}.vidcolor").exists()


@pytest.mark.parametrize("tags", [{"colorspace": 1, "color_range": 2, "color_primaries": 1, "color_trc": 1},
                                  pytest.param("rgb", marks=pytest.mark.slow)], ids=["bt709-full-range", "rgb"])
def test_a_film_joined_from_segments_keeps_its_matrix_and_range(tags, cli, tmp_path):
    """QuickTime segments keep only part of the color tags; the joined film has them all, as one
    piece has (a full-range picture read as limited range shows washed out). An RGB source made
    YUV is converted with BT.709 and tagged so."""
    from media_factory import color_texture, translate, write_frames

    frames = [translate(color_texture(96, 64, seed=1), i, 0) for i in range(30)]
    if tags == "rgb":
        src = write_frames(tmp_path / "rgb.mkv", frames)
    else:
        src = tmp_path / "full.mkv"
        with av.open(str(src), "w") as out:
            v = out.add_stream("libx264", rate=25, options={"crf": "0"})
            v.width, v.height, v.pix_fmt = 96, 64, "yuv420p"
            for name, value in tags.items():
                setattr(v.codec_context, name, value)
            for i, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace=1, dst_color_range=2)
                frame.pts = i
                out.mux(v.encode(frame))
            out.mux(v.encode(None))
    whole, joined = tmp_path / "whole.mkv", tmp_path / "joined.mkv"
    assert cli(src, "-o", whole, "--codec", "ffv1")[0] == 0
    assert cli(src, "-o", joined, "--codec", "ffv1", "--segment-seconds", "0.5")[0] == 0

    def look(path):
        with av.open(str(path)) as c:
            cc = c.streams.video[0].codec_context
            return cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc

    assert look(joined) == look(whole)
    assert look(whole)[:2] == ((1, 2) if tags != "rgb" else (1, look(src)[1]))
    assert same_film(joined, whole)


def test_segments_run_the_network_once_a_frame(film, uninterrupted, colorizer, tmp_path, monkeypatch):
    """A segment's context frames are its neighbours' own: the network colorizes each frame once
    in a segmented run (the segment before hands its colors on; the far context needs only its
    lightness), so resumability costs no network time."""
    from vidcolor import colorize_video

    seen = []
    real = colorizer.infer
    monkeypatch.setattr(colorizer, "infer", lambda x: seen.append(len(x)) or real(x))
    out = tmp_path / "film.mkv"
    summary = colorize_video(film, out, colorizer=colorizer, codec="ffv1", segment_seconds=float(SEGMENT),
                             quiet=True)
    assert summary.frames == FRAMES and sum(seen) == FRAMES
    assert same_film(out, uninterrupted)
