"""Every stream besides the colorized one: copied untouched where the output holds it, text
subtitles converted where it needs another format, and the user told of anything dropped."""
from fractions import Fraction

import av
import numpy as np
import pytest

from media_factory import (CUES, bitmap_cues, frame_times, moving_gray, packets, subtitle_cues, timecodes,
                           write_video)

FONT = ("DejaVuSans.ttf", "application/x-truetype-font", bytes(range(256)) * 40)
EXPECTED = [(start, duration, text) for start, duration, text in CUES]


def cues_from_picture(path):
    """Each subtitle stream's codec and cues, timed from the first frame of video (Matroska shifts
    every stream by the AAC priming, their offsets kept)."""
    first = round(1000 * frame_times(path)[0])
    return [(codec, [(start - first, duration, text) for start, duration, text in cues])
            for codec, cues in subtitle_cues(path)]


def audio_ms(path):
    """Each audio packet's bytes and times in whole milliseconds: what survives a change of clock."""
    return [[(data, round(1000 * pts), round(1000 * dts)) for data, pts, dts in track] for track in packets(path)]


@pytest.fixture(scope="module")
def subtitled(tmp_path_factory):
    """Matroska with two audio tracks, SRT, ASS and WebVTT subtitles, a font, chapters and tags."""
    path = tmp_path_factory.mktemp("streams") / "film.mkv"
    write_video(path, frames=24, audio_tracks=2, subtitles=("subrip", "ass", "webvtt"), attachments=[FONT])
    return path


def attachments(path):
    with av.open(str(path)) as c:
        return [(s.name, s.mimetype, bytes(s.data)) for s in c.streams.attachments]


def test_matroska_keeps_every_stream_byte_for_byte(cli, subtitled, tmp_path):
    out = tmp_path / "out.mkv"
    code, output = cli(subtitled, "-o", out, "--preset", "archive")
    assert code == 0, output
    assert "warning" not in output
    assert packets(out, "subtitle") == packets(subtitled, "subtitle")
    assert packets(out, "audio") == packets(subtitled, "audio")
    assert attachments(out) == [FONT]
    assert [codec for codec, _ in subtitle_cues(out)] == ["srt", "ssa", "webvtt"]
    with av.open(str(out)) as c:
        assert [s.metadata.get("language") for s in c.streams.subtitles] == ["fra"] * 3


def test_dvd_bitmap_subtitles_are_copied_byte_for_byte_or_named_where_they_cannot_go(cli, tmp_path):
    src = write_video(tmp_path / "dvd.mkv", frames=24, subtitles=("dvdsub",))
    boxes = [(8, 40, 32, 6), (16, 40, 32, 6), (24, 40, 32, 6)]
    assert [box for _, _, box in bitmap_cues(src)[0]] == boxes  # FFmpeg decodes them as bitmaps
    for name in ("out.mkv", "out.mp4"):
        out = tmp_path / name
        code, output = cli(src, "-o", out)
        assert code == 0, output
        assert "warning" not in output
        assert packets(out, "subtitle") == packets(src, "subtitle")  # bytes and times
        cues = bitmap_cues(out)[0]
        assert [(start, box) for start, _, box in cues] == [(start, box) for start, _, box in bitmap_cues(src)[0]]
        with av.open(str(out)) as c:
            assert [s.metadata.get("language") for s in c.streams.subtitles] == ["fra"]
    for name in ("out.mov", "out.webm"):
        out = tmp_path / name
        code, output = cli(src, "-o", out)
        assert code == 0, output
        assert f"stream #2 subtitle (dvdsub, fra): a {name[4:]} file cannot hold dvdsub; .mkv can keep it; " \
            f"it will not be in {out}" in output
        with av.open(str(out)) as c:
            assert not c.streams.subtitles


def test_mp4_converts_text_subtitles_to_mov_text_and_says_what_it_dropped(cli, subtitled, tmp_path):
    out = tmp_path / "out.mp4"
    code, output = cli(subtitled, "-o", out)
    assert code == 0, output
    assert cues_from_picture(out) == [("mov_text", EXPECTED)] * 3
    assert audio_ms(out) == audio_ms(subtitled)
    lines = [line for line in output.splitlines() if "warning" in line]
    assert sum("converted to mov_text" in line for line in lines) == 3
    assert f"stream #6 attachment ({FONT[0]}): only Matroska (.mkv) holds attachments, a mp4 file cannot; " \
        f"it will not be in {out}" in output
    assert attachments(out) == []


def test_webm_keeps_webvtt_converts_the_rest_and_reencodes_aac_to_opus(cli, subtitled, tmp_path):
    out = tmp_path / "out.webm"
    code, output = cli(subtitled, "-o", out)
    assert code == 0, output
    assert cues_from_picture(out) == [("webvtt", EXPECTED)] * 3
    webvtt_in, webvtt_out = packets(subtitled, "subtitle")[2], packets(out, "subtitle")[2]
    assert webvtt_out == webvtt_in  # held as it is: copied, not converted
    assert "#1 audio (aac): a webm file cannot hold aac; re-encoded (lossy) as libopus" in output
    with av.open(str(out)) as c:
        assert [s.type for s in c.streams] == ["video", "audio", "audio"] + ["subtitle"] * 3
        assert [a.codec_context.name for a in c.streams.audio] == ["opus", "opus"]


def test_mov_text_into_matroska_is_converted_not_dropped(cli, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=24, subtitles=("mov_text",))
    out = tmp_path / "out.mkv"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert cues_from_picture(out) == [("ssa", EXPECTED)] and cues_from_picture(src) == [("mov_text", EXPECTED)]
    assert "converted to ass" in output


def test_transport_and_program_streams_keep_their_audio(cli, tmp_path):
    ts = write_video(tmp_path / "film.ts", frames=25, fps=25, codec="mpeg2video", audio_rate=48000)
    out = tmp_path / "out.ts"
    code, output = cli(ts, "-o", out)
    assert code == 0, output
    assert "warning" not in output
    assert packets(out, "audio") == packets(ts, "audio")
    mpg = write_video(tmp_path / "film.mpg", frames=25, fps=25, codec="mpeg2video", audio_codec="mp2",
                      audio_rate=48000)
    out = tmp_path / "out.mpg"
    code, output = cli(mpg, "-o", out)
    assert code == 0, output
    with av.open(str(out)) as c:
        assert c.format.name == "mpeg" and c.streams.video[0].codec_context.name == "mpeg2video"
    # MPEG-2 counts frames at its own rate: the film's own times come back exactly.
    assert frame_times(out) == frame_times(mpg) and len(frame_times(out)) == 25
    assert packets(out, "audio") == packets(mpg, "audio")


def test_a_second_video_track_is_named_as_dropped(cli, tmp_path):
    src = tmp_path / "two.mkv"
    with av.open(str(src), "w") as out:
        tracks = []
        for _ in range(2):
            v = out.add_stream("libx264", rate=24)
            v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
            tracks.append(v)
        for i in range(6):
            for v in tracks:
                frame = av.VideoFrame(64, 48, "yuv420p")
                for plane in frame.planes:
                    plane.update(bytes([16 + 20 * i]) * plane.buffer_size)
                frame.pts = i
                out.mux(v.encode(frame))
        for v in tracks:
            out.mux(v.encode(None))
    out = tmp_path / "out.mkv"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert "stream #1 video (h264): a second video track; only #0 is colorized; it will not be in" in output
    with av.open(str(out)) as c:
        assert len(c.streams.video) == 1 and c.streams.video[0].frames in (0, 6)


def write_timecoded(path, label: str, rate, frames: int):
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        v.metadata["timecode"] = label
        for i in range(frames):
            gray = moving_gray(64, 48, i)
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[:, :, None], 3, axis=2), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path


def test_timecode_track_is_rebuilt_from_the_video_tag(cli, tmp_path):
    """Camera and editing files carry a timecode (tmcd) track: kept in MOV, a tag in Matroska."""
    src = write_timecoded(tmp_path / "tc.mov", "10:00:00:00", 24, 6)
    for name in ("out.mov", "out.mkv"):
        code, output = cli(src, "-o", tmp_path / name)
        assert code == 0, output
        assert "warning" not in output
        tags = timecodes(tmp_path / name)
        assert tags[0] == "10:00:00:00"
        if name == "out.mov":
            assert tags == ["10:00:00:00"] * 2  # the tmcd track too


@pytest.mark.slow  # about 40 s
def test_timecode_names_the_first_frame_of_a_part(cli, tmp_path):
    """--start: the output's timecode is its own first frame's label, drop-frame counted as SMPTE says."""
    film = write_timecoded(tmp_path / "film.mov", "10:00:00:00", 24, 48)
    assert cli(film, "-o", tmp_path / "part.mov", "--start", "1")[0] == 0
    assert timecodes(tmp_path / "part.mov") == ["10:00:01:00"] * 2
    # 29.97 drop-frame: one second on is frame 30; labels ;00 and ;01 of minute 1 do not exist.
    ntsc = write_timecoded(tmp_path / "ntsc.mov", "01:00:59;28", Fraction(30000, 1001), 90)
    assert cli(ntsc, "-o", tmp_path / "ntsc_part.mov", "--start", "1")[0] == 0
    assert timecodes(tmp_path / "ntsc_part.mov") == ["01:01:01;00"] * 2
    # The same part through batch segments, joined: the same label.
    code, output = cli("batch", ntsc, "-o", tmp_path / "batch", "--start", "1", "--segment-seconds", "0.5")
    assert code == 0, output
    assert timecodes(tmp_path / "batch" / "ntsc.mov") == ["01:01:01;00"] * 2
    assert cli(ntsc, "-o", tmp_path / "whole.mov")[0] == 0
    assert timecodes(tmp_path / "whole.mov") == ["01:00:59;28"] * 2


def decoded_audio(path, fmt="s32"):
    """The first audio stream decoded to ``fmt`` (interleaved), its start in seconds and channels."""
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        resampler = av.AudioResampler(format=fmt, layout=s.codec_context.layout.nb_channels == 1 and "mono"
                                      or "stereo", rate=s.codec_context.sample_rate)
        frames = [r for f in c.decode(s) for r in resampler.resample(f)]
        start = float(frames[0].pts * frames[0].time_base)
        return np.concatenate([f.to_ndarray() for f in frames], axis=1)[0], start, s.codec_context.channels


@pytest.mark.parametrize("name, codec", [("news.mkv", "flac"), ("news.mp4", "alac")])
def test_audio_a_container_cannot_hold_is_reencoded_losslessly(cli, tmp_path, name, codec):
    """A 1940s newsreel's ASF soundtrack (WMAv2) into Matroska or MP4: re-encoded losslessly, not dropped."""
    src = write_video(tmp_path / "news.asf", frames=30, fps=25, codec="mpeg4", audio_codec="wmav2")
    out = tmp_path / name
    code, output = cli(src, "-o", out, quiet=False)
    assert code == 0, output
    assert f"cannot hold wmav2; re-encoded losslessly as {codec}" in output
    with av.open(str(out)) as c:
        assert [s.codec_context.name for s in c.streams.audio] == [codec]
    before, start_before, channels_before = decoded_audio(src)
    after, start_after, channels_after = decoded_audio(out)
    assert channels_after == channels_before == 2
    assert abs(start_after - start_before) < 0.002  # the offset to the picture kept (ASF counts in ms)
    assert len(after) == len(before)
    # Every sample as the WMA decoder gives it, to FLAC's and ALAC's 24 bits.
    assert np.abs(after.astype(np.int64) - before).max() <= 1 << 8
    assert np.abs(before).max() > 1 << 28  # a real tone, not silence


def test_audio_into_webm_is_reencoded_with_a_lossy_codec(cli, tmp_path):
    src = write_video(tmp_path / "news.asf", frames=30, fps=25, codec="mpeg4", audio_codec="wmav2")
    out = tmp_path / "news.webm"
    code, output = cli(src, "-o", out, quiet=False)
    assert code == 0, output
    assert "re-encoded (lossy) as libopus" in output
    before, start_before, _ = decoded_audio(src, "flt")
    with av.open(str(out)) as c:
        rate = c.streams.audio[0].codec_context.sample_rate
    after = decoded_audio(out, "flt")[0]
    # The same tone (Opus runs at 48 kHz): same length to 30 ms, strongly correlated once resampled.
    expected = np.interp(np.arange(round(len(before) * rate / 44100)) * 44100 / rate, np.arange(len(before)), before)
    assert abs(len(after) - len(expected)) < 0.03 * rate
    n = min(len(after), len(expected)) - 4000
    best = max(np.corrcoef(after[lag:lag + n], expected[2000:2000 + n])[0, 1] for lag in range(0, 4000, 8))
    assert best > 0.95


def test_audio_copy_leaves_out_what_cannot_be_held_and_a_named_encoder_is_used_for_all(cli, tmp_path):
    src = write_video(tmp_path / "news.asf", frames=12, fps=25, codec="mpeg4", audio_codec="wmav2")
    code, output = cli(src, "-o", tmp_path / "copy.mkv", "--audio", "copy", quiet=False)
    assert code == 0 and "a matroska file cannot hold wmav2; it will not be in" in output
    with av.open(str(tmp_path / "copy.mkv")) as c:
        assert not c.streams.audio
    film = write_video(tmp_path / "film.mp4", frames=12)
    code, output = cli(film, "-o", tmp_path / "flac.mkv", "--audio", "flac", quiet=False)
    assert code == 0 and "re-encoded as flac (--audio flac)" in output
    with av.open(str(tmp_path / "flac.mkv")) as c:
        assert [s.codec_context.name for s in c.streams.audio] == ["flac"]
    code, output = cli(film, "-o", tmp_path / "x.mp4", "--audio", "nonsense")
    assert code == 1 and "--audio nonsense: not an audio encoder" in output
    assert not (tmp_path / "x.mp4").exists()
