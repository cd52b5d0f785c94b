"""The real odd clips of ../shared/media/video/odd (skipped where it is absent)."""
from fractions import Fraction

import av
import pytest

from media_factory import frame_times, packets

SECONDS = 2  # of each clip: enough to meet its oddity, short enough for CI


def clip(shared, name):
    path = shared / "media" / "video" / "odd" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


def video_of(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return v.codec_context.width, v.codec_context.height, v.sample_aspect_ratio


def test_non_square_pixels(cli, shared, tmp_path):
    src = clip(shared, "bbb_slapstick_sar2627x2560.mp4")
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out, "--duration", SECONDS)
    assert code == 0, output
    assert video_of(out) == video_of(src) == (640, 370, Fraction(2627, 2560))
    times = frame_times(src)
    assert frame_times(out) == [t - times[0] for t in times if t - times[0] < SECONDS]


@pytest.mark.slow  # about 80 s on 2 cores
def test_oddly_written_rate(cli, shared, tmp_path):
    src = clip(shared, "copying_is_not_theft_ccbysa.mp4")
    out = tmp_path / "out.mkv"
    code, output = cli(src, "-o", out, "--duration", SECONDS, "--preset", "archive")
    assert code == 0, output
    # The clip is cut short of what its header says (padded to 1 MiB): read only the part used.
    with av.open(str(src)) as c:
        times = []
        for f in c.decode(video=0):
            times.append(f.pts * f.time_base)
            if times[-1] - times[0] >= SECONDS:
                break
    wanted = [round(1000 * (t - times[0])) for t in times if t - times[0] < SECONDS]
    assert len(wanted) == 48  # 23.98 frames/s, written as 1199/50
    assert [round(1000 * (t - frame_times(out)[0])) for t in frame_times(out)] == wanted


@pytest.mark.slow  # about 25 s
def test_a_hundred_subtitle_tracks_are_all_carried(cli, shared, tmp_path):
    src = clip(shared, "many_subtitle_tracks_bbb.mp4")
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert "warning" not in output
    with av.open(str(src)) as a, av.open(str(out)) as b:
        assert len(b.streams.subtitles) == len(a.streams.subtitles) >= 90
        assert [s.metadata.get("language") for s in b.streams.subtitles] == \
            [s.metadata.get("language") for s in a.streams.subtitles]
    assert packets(out, "subtitle") == packets(src, "subtitle")
    assert len(frame_times(out)) == len(frame_times(src))


def test_an_eight_pixel_single_frame_webm(cli, shared, tmp_path):
    src = clip(shared, "tiny_8x8_vp8.webm")
    out = tmp_path / "out.webm"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert video_of(out)[:2] == (8, 8)
    assert frame_times(out) == frame_times(src) and len(frame_times(out)) == 1
