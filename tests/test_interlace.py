"""Interlaced sources: detected by their flags or by combing, deinterlaced (bwdif) before colorizing."""
import json
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from media_factory import decoded_rgb, frame_times, moving_gray, timecodes

from conftest import ROOT
from vidcolor.errors import VidcolorError
from vidcolor.media.interlace import detect


SAMPLE = ROOT / "samples" / "his_girl_friday_1940.mp4"  # a progressive scan of a 1940 film


def write_interlaced(path, frames=16, width=128, height=96, flagged=False, bottom_first=False):
    """Each frame woven from two fields shot half a frame apart: what a video camera records."""
    first, second = (1, 0) if bottom_first else (0, 1)
    with av.open(str(path), "w") as out:
        options = {"crf": "10"}
        if flagged:
            options.update({"flags": "+ilme+ildct", "x264-params": "bff=1" if bottom_first else "tff=1"})
        v = out.add_stream("libx264", rate=25, options=options)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            early, late = moving_gray(width, height, 4 * i), moving_gray(width, height, 4 * i + 2)
            woven = early.copy()
            woven[first::2], woven[second::2] = early[first::2], late[second::2]
            frame = av.VideoFrame.from_ndarray(np.repeat(woven[:, :, None], 3, axis=2), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path


def combing(rgb: np.ndarray) -> float:
    """How much each row differs from the mean of its neighbours: high where fields are woven."""
    L = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, :, 0].astype(np.float32)
    return float(np.abs(L[1:-1] - 0.5 * (L[:-2] + L[2:])).mean())


def test_detection_by_combing_and_by_flags(tmp_path):
    woven = write_interlaced(tmp_path / "woven.mp4")
    assert detect(woven).field_order == "tff" and "combed" in detect(woven).reason
    assert detect(write_interlaced(tmp_path / "bff.mp4", bottom_first=True)).field_order == "bff"
    assert detect(write_interlaced(tmp_path / "flagged.mp4", flagged=True)).field_order == "tff"
    # Real film: synthetic pictures with hard horizontal edges can fool a combing test.
    progressive = SAMPLE
    assert detect(progressive).field_order is None
    assert detect(progressive, "on").field_order == "tff"
    assert detect(woven, "off").field_order is None
    with pytest.raises(VidcolorError, match="deinterlace must be one of"):
        detect(woven, "sometimes")


def test_interlaced_film_is_deinterlaced_before_colorizing_with_a_notice(cli, tmp_path):
    film = write_interlaced(tmp_path / "woven.mp4")
    auto, kept = tmp_path / "auto.mp4", tmp_path / "kept.mp4"
    code, output = cli(film, "-o", auto)
    assert code == 0, output
    assert "interlaced" in output and "bwdif" in output
    assert cli(film, "-o", kept, "--deinterlace", "off")[0] == 0

    assert frame_times(auto) == frame_times(kept) == frame_times(film)
    combed = np.mean([combing(f) for f in decoded_rgb(film)])
    assert np.mean([combing(f) for f in decoded_rgb(kept)]) > 0.8 * combed  # the fields stayed woven
    assert np.mean([combing(f) for f in decoded_rgb(auto)]) < 0.5 * combed


def test_progressive_film_is_left_as_it_is(cli, tmp_path):
    auto, off = tmp_path / "auto.mkv", tmp_path / "off.mkv"
    part = ("--codec", "ffv1", "--duration", "0.2")
    code, output = cli(SAMPLE, "-o", auto, *part)
    assert code == 0 and "interlaced" not in output
    assert cli(SAMPLE, "-o", off, *part, "--deinterlace", "off")[0] == 0
    assert len(decoded_rgb(auto)) == len(decoded_rgb(off)) >= 6
    assert all(np.array_equal(a, b) for a, b in zip(decoded_rgb(auto), decoded_rgb(off)))


def test_real_progressive_films_are_not_taken_for_interlaced(shared):
    clips = sorted(p for p in (shared / "media" / "video").rglob("*") if p.suffix in (".mp4", ".webm"))
    assert len(clips) >= 5
    assert [c.name for c in clips if detect(c).field_order is not None] == []


def film_frames(count: int, step: int = 3, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """Every ``step``-th frame of the sample (more motion from one to the next), as the film frames
    of a 24 fps scan."""
    with av.open(str(SAMPLE)) as c:
        frames = []
        for i, frame in enumerate(c.decode(video=0)):
            if i % step == 0:
                frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_AREA))
            if len(frames) == count:
                return frames
    raise AssertionError("the sample is too short")


def write_telecined(path, film: list[np.ndarray], timecode: str | None = None):
    """``film`` at 24000/1001 through a 3:2 pulldown (FFmpeg's telecine) into 30000/1001 video:
    of every 5 video frames, 2 are woven from fields of two film frames."""
    height, width = film[0].shape[:2]
    graph = av.filter.Graph()
    node = graph.add("buffer", f"video_size={width}x{height}:pix_fmt=yuv420p:time_base=1001/24000:"
                               "frame_rate=24000/1001:pixel_aspect=1/1")
    for name, args in (("telecine", "first_field=top:pattern=23"), ("buffersink", None)):
        following = graph.add(name, args) if args else graph.add(name)
        node.link_to(following)
        node = following
    graph.configure()
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=Fraction(30000, 1001),
                           options={"crf": "8", "flags": "+ilme+ildct", "x264-params": "tff=1"})
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        if timecode:
            v.metadata["timecode"] = timecode
        count = 0

        def drain():
            nonlocal count
            while True:
                try:
                    frame = graph.vpull()
                except (av.error.BlockingIOError, av.error.EOFError):
                    return
                frame.pts, frame.time_base = count, Fraction(1001, 30000)
                count += 1
                out.mux(v.encode(frame))

        for i, rgb in enumerate(film):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1001, 24000)
            graph.vpush(frame)
            drain()
        graph.vpush(None)
        drain()
        out.mux(v.encode(None))
    return path


def lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, :, 0].astype(np.float32)


def test_telecined_film_gets_its_film_frames_back(cli, tmp_path):
    film = film_frames(40)
    telecined = write_telecined(tmp_path / "telecined.mp4", film)
    found = detect(telecined)
    assert found.telecined and found.field_order == "tff" and "repeat a field" in found.reason
    assert detect(telecined, "on").telecined is False  # on: bwdif on every frame, as asked
    assert len(frame_times(telecined)) == 50

    out = tmp_path / "ivtc.mkv"
    code, output = cli(telecined, "-o", out, "--preset", "archive")
    assert code == 0, output
    assert "telecined" in output and "inverse telecine" in output
    with av.open(str(out)) as c:
        assert c.streams.video[0].average_rate == Fraction(24000, 1001)
    times = frame_times(out)
    assert len(times) == 40
    # One film frame every 1001/24000 s (Matroska keeps whole milliseconds).
    assert all(abs(float(b - a) - 1001 / 24000) < 0.001 for a, b in zip(times, times[1:])), times
    # Each output frame is its film frame, whole: nearer to it than to the film frames beside it,
    # and not a weave of two.
    film_L = [lightness(f) for f in film]
    error = [[np.abs(lightness(o) - L).mean() for L in film_L] for o in decoded_rgb(out)]
    assert all(np.argmin(e) == k for k, e in enumerate(error)), [int(np.argmin(e)) for e in error]
    worst = max(e[k] for k, e in enumerate(error))
    # Colorizing the video frames as they come would color 2 in 5 that no film frame looks like.
    nearest = [min(np.abs(lightness(v) - L).mean() for L in film_L) for v in decoded_rgb(telecined)]
    assert sum(n > 1.5 * worst for n in nearest) >= 16


@pytest.mark.parametrize("label, expected", [
    ("01:00:00:15", "01:00:00:12"),  # non-drop: 15 of 30 frames into the second is 12 of 24
    ("01:00:00;00", "00:59:56:10"),  # drop-frame: the same moment, counted at 23.976 without drops
])
def test_timecode_is_counted_again_at_the_film_rate_after_inverse_telecine(cli, tmp_path, label, expected):
    telecined = write_telecined(tmp_path / "telecined.mov", film_frames(12, width=160, height=120), label)
    assert timecodes(telecined) == [label, label]
    out = tmp_path / "out.mov"
    code, output = cli(telecined, "-o", out, "--deinterlace", "ivtc")
    assert code == 0, output
    with av.open(str(out)) as c:
        assert c.streams.video[0].base_rate == Fraction(24000, 1001)
    # The tag and MOV's tmcd track (which drop-frame at 23.976 would have cost).
    assert timecodes(out) == [expected, expected]


@pytest.mark.slow  # about 11 s
def test_batch_colorizes_a_telecined_film_in_one_piece(cli, tmp_path):
    film = tmp_path / "films"
    film.mkdir()
    write_telecined(film / "telecined.mp4", film_frames(40))
    out, report = tmp_path / "out", tmp_path / "r.json"
    code, output = cli("batch", film, "-o", out, "--segment-seconds", "0.5", "--report", report)
    assert code == 0, output
    item, = json.loads(report.read_text())["items"]
    # Segments would each start the pulldown's phase afresh: the film is done whole, one notice.
    assert item["segments"] == 0 and item["frames"] == 40
    assert item["warnings"] == [] and len(item["notes"]) == 1 and "inverse telecine" in item["notes"][0]
    times = frame_times(out / "telecined.mp4")
    assert len(times) == 40 and all(abs(float(b - a) - 1001 / 24000) < 0.001 for a, b in zip(times, times[1:]))
