"""Timing as files have it: audio before or after the picture, odd time bases, no timestamps or
duration in the header, a single frame. Every frame keeps its time; audio keeps its offset."""
from fractions import Fraction

import av
import numpy as np
import pytest

from media_factory import frame_times, moving_gray, packets, write_video


def first_audio(path):
    return packets(path)[0][0][1]


@pytest.mark.parametrize("name, kwargs", [
    ("audio_late.mp4", {"audio_start": 0.5}),
    ("video_late.mkv", {"pts": [round(1000 * (0.4 + i / 24)) for i in range(24)], "time_base": Fraction(1, 1000)}),
    ("ntsc.mov", {"fps": Fraction(30000, 1001), "time_base": Fraction(1001, 30000)}),
    ("mpegts_clock.ts", {"fps": 25, "audio_rate": 48000}),  # a transport stream counts in 1/90000 s
], ids=["audio-after-video", "video-after-audio", "ntsc-time-base", "90khz-transport-stream"])
def test_frame_times_and_audio_offset_are_kept(cli, tmp_path, name, kwargs):
    src = write_video(tmp_path / name, frames=24, **kwargs)
    out = tmp_path / f"out_{name}"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert len(frame_times(src)) == 24 and frame_times(out) == frame_times(src)
    assert first_audio(out) - frame_times(out)[0] == first_audio(src) - frame_times(src)[0]
    assert [p[0] for p in packets(out)[0]] == [p[0] for p in packets(src)[0]]


def test_raw_stream_without_timestamps_or_duration(cli, tmp_path):
    """An H.264 elementary stream: no container clock, no duration; frames are timed by the rate."""
    src = write_video(tmp_path / "raw.h264", frames=20, fps=25, audio=False)
    with av.open(str(src)) as c:
        assert c.duration is None or c.streams.video[0].duration is None
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    times = frame_times(out)
    assert len(times) == 20
    assert [t - times[0] for t in times] == [Fraction(i, 25) for i in range(20)]


def test_a_single_frame_video(cli, tmp_path):
    src = write_video(tmp_path / "one.mp4", frames=1, audio=False)
    out = tmp_path / "out.mkv"
    code, output = cli(src, "-o", out, "--preset", "archive")
    assert code == 0, output
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="gray") for f in c.decode(video=0)]
    assert len(frames) == 1
    assert np.abs(frames[0].astype(int) - moving_gray(96, 64, 0)).mean() < 8  # the same picture, colored


def test_video_that_starts_long_after_its_audio_is_colorized(cli, tmp_path):
    """A stream-copy cut whose picture starts 5.6 s after its sound, at an odd width with non-square
    pixels: FFmpeg's default probe ends before the first picture, so the stream's pixel format is
    unknown until something is decoded (the interlace probe's filter graph once failed on it)."""
    from vidcolor.media.interlace import detect

    src = write_video(tmp_path / "late.mp4", width=694, height=120, fps=25, time_base=Fraction(1, 25),
                      pts=[140 + i for i in range(30)], sar=Fraction(12, 11))
    with av.open(str(src)) as c:
        assert c.streams.video[0].codec_context.pix_fmt is None  # the file is as hard as the real one
    assert detect(src).field_order is None
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert len(frame_times(src)) == 30 and frame_times(out) == frame_times(src)
    assert first_audio(out) - frame_times(out)[0] == first_audio(src) - frame_times(src)[0]
    assert [p[0] for p in packets(out)[0]] == [p[0] for p in packets(src)[0]]
    with av.open(str(out)) as c:
        assert c.streams.video[0].sample_aspect_ratio == Fraction(12, 11)


def test_a_failing_interlace_probe_does_not_fail_the_run(cli, tmp_path, monkeypatch):
    from vidcolor.media import interlace

    def broken(self, frame):
        raise av.error.ArgumentError(22, "Invalid argument")

    monkeypatch.setattr(interlace._Filters, "_build", broken)
    src = write_video(tmp_path / "film.mp4", frames=12)
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out, quiet=False)
    assert code == 0, output
    assert "interlace probe failed" in output and "treated as progressive" in output
    assert len(frame_times(out)) == 12
