"""Interlaced sources: detected by their flags or by combing, deinterlaced (bwdif) before colorizing."""
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from media_factory import decoded_rgb, frame_times, moving_gray

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
    with pytest.raises(VidcolorError, match="--deinterlace"):
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
