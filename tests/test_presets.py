"""Output presets: web, archive (FFV1/Matroska), master (ProRes/QuickTime), preview; overrides; refusals."""
from fractions import Fraction

import av
import numpy as np
import pytest

from media_factory import decoded_rgb, frame_times, moving_gray, packets, write_video
from test_video import lightness_error


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """Gray frames tagged BT.709, limited range, as broadcast masters are; a stereo track."""
    path = tmp_path_factory.mktemp("in") / "tagged.mp4"
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24, options={"crf": "10"})
        v.width, v.height, v.pix_fmt = 96, 64, "yuv420p"
        cc = v.codec_context
        cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = 1, 1, 1, 1  # BT.709, MPEG range
        for i in range(12):
            gray = moving_gray(96, 64, i)
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[:, :, None], 3, axis=2), format="rgb24")
            frame = frame.reformat(format="yuv420p", dst_colorspace=1, dst_color_range=1)
            frame.colorspace, frame.color_range, frame.color_primaries, frame.color_trc = 1, 1, 1, 1
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path


def video_of(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        cc = v.codec_context
        keys = [p.is_keyframe for p in c.demux(v) if p.size]
        return {"codec": cc.name, "pix_fmt": cc.pix_fmt, "profile": cc.profile, "format": c.format.name,
                "tags": (int(cc.colorspace), int(cc.color_range), int(cc.color_primaries), int(cc.color_trc)),
                "all_keyframes": all(keys)}


def test_archive_is_lossless_ffv1_10_bit_in_matroska_with_the_color_tags(cli, film, tmp_path):
    out = tmp_path / "archive.mkv"
    code, output = cli(film, "-o", out, "--preset", "archive")
    assert code == 0, output
    v = video_of(out)
    assert (v["codec"], v["pix_fmt"], v["format"]) == ("ffv1", "yuv444p10le", "matroska,webm")
    assert v["all_keyframes"]  # every frame stands alone: damage stays local
    assert v["tags"] == video_of(film)["tags"] == (1, 1, 1, 1)
    # Matroska counts time in milliseconds: 1/24 s is stored as 42 ms.
    assert len(frame_times(out)) == 12
    assert max(abs(a - b) for a, b in zip(frame_times(out), frame_times(film))) <= Fraction(1, 2000)
    # Lossless: the output's lightness is the input's, up to 10-bit rounding and the clipping of
    # out-of-gamut colors (a lossy encode moves it further).
    errors = np.concatenate([lightness_error(a, b).ravel() for a, b in zip(decoded_rgb(film), decoded_rgb(out))])
    assert errors.mean() < 0.6 and np.percentile(errors, 99) <= 3


def test_master_is_prores_422_hq_10_bit_in_quicktime(cli, film, tmp_path):
    out = tmp_path / "master.mov"
    code, output = cli(film, "-o", out, "--preset", "master")
    assert code == 0, output
    v = video_of(out)
    assert (v["codec"], v["pix_fmt"], v["format"]) == ("prores", "yuv422p10le", "mov,mp4,m4a,3gp,3g2,mj2")
    assert v["profile"] == "HQ"
    assert v["tags"] == (1, 1, 1, 1)
    assert frame_times(out) == frame_times(film)


def test_preview_is_smaller_than_web_and_overrides_apply(cli, film, tmp_path):
    web, preview, tuned = tmp_path / "web.mp4", tmp_path / "preview.mp4", tmp_path / "tuned.mp4"
    assert cli(film, "-o", web)[0] == 0
    assert cli(film, "-o", preview, "--preset", "preview")[0] == 0
    assert cli(film, "-o", tuned, "--preset", "preview", "--crf", "18", "--encoder-preset", "veryfast")[0] == 0

    def video_bytes(path):
        return sum(len(data) for track in packets(path, "video") for data, _, _ in track)

    assert video_bytes(preview) < 0.8 * video_bytes(web)
    assert video_bytes(tuned) > video_bytes(preview)  # --crf overrides the preset's 28
    assert frame_times(preview) == frame_times(film)
    assert video_of(preview)["codec"] == "h264" and video_of(preview)["pix_fmt"] == "yuv420p"


@pytest.mark.parametrize("args, words", [
    (("-o", "{tmp}/archive.mp4", "--preset", "archive"), ("archive.mp4", "Matroska", "*.mkv")),
    (("-o", "{tmp}/master.mkv", "--preset", "master"), ("master.mkv", "QuickTime", "*.mov")),
    (("-o", "{tmp}/x.mp4", "--preset", "slow"), ("unknown preset 'slow'", "--encoder-preset slow")),
    (("-o", "{tmp}/x.mp4", "--encoder-preset", "bogus"), ("libx264 will not start", "preset=bogus")),
])
def test_a_preset_the_output_cannot_take_is_refused_before_decoding(cli, film, tmp_path, monkeypatch, args, words):
    import vidcolor.run.film

    def no_decoding(*a, **k):
        raise AssertionError("decoding started")

    monkeypatch.setattr(vidcolor.run.film, "decode_frames", no_decoding)
    code, output = cli(film, *(a.format(tmp=tmp_path) for a in args))
    assert code == 1
    assert all(w in output for w in words), output
    assert len(output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_odd_sized_film_keeps_every_pixel_in_the_master_preset(cli, tmp_path):
    film = write_video(tmp_path / "odd.mp4", width=95, height=63, frames=4, codec="libx264rgb", pix_fmt="rgb24",
                       audio=False)
    out = tmp_path / "odd.mov"
    code, output = cli(film, "-o", out, "--preset", "master")
    assert code == 0, output
    assert "yuv444p10le" in output  # said why 4:2:2 was not used
    v = video_of(out)
    assert v["pix_fmt"] == "yuv444p10le"
    assert decoded_rgb(out)[0].shape == (63, 95, 3)
    assert frame_times(out) == [Fraction(i, 24) for i in range(4)]


def test_web_and_preview_encode_with_nvenc_only_where_it_opens(monkeypatch):
    """The choice of encoder (issue 22): NVENC where it opens, x264 with a notice on an NVIDIA GPU
    without it (H100, H200), x264 silently elsewhere; --codec and the other presets unchanged."""
    from pathlib import Path

    from vidcolor.media import hardware
    from vidcolor.media.encode import EncodeSettings

    def resolved(preset=None, codec=None, **more):
        return EncodeSettings(preset=preset, codec=codec, **more).resolve("mp4", Path("out.mp4"), 96, 64)

    monkeypatch.setattr(hardware, "nvidia_gpu", lambda: False)
    if not hardware.opens("h264_nvenc"):  # as on CI: no NVIDIA driver
        settings, notes = resolved("web")
        assert settings.codec == "libx264" and notes == []

    monkeypatch.setattr(hardware, "nvidia_gpu", lambda: True)
    monkeypatch.setattr(hardware, "opens", lambda codec: False)
    settings, notes = resolved("web")
    assert settings.codec == "libx264" and settings.options() == {"crf": "18"}
    assert [lost for _, lost in notes] == [False] and "no NVENC" in notes[0][0] and "libx264" in notes[0][0]
    # Beside a network on the GPU, x264 takes a speed that keeps up, unless told otherwise.
    settings, notes = resolved("web", keep_up=True)
    assert settings.options() == {"crf": "18", "preset": "veryfast"} and "keep up with the GPU" in notes[1][0]
    assert resolved("web", keep_up=True, encoder_preset="slow")[0].options() == {"crf": "18", "preset": "slow"}
    assert resolved("preview", keep_up=True)[0].options() == {"crf": "28", "preset": "veryfast"}

    monkeypatch.setattr(hardware, "opens", lambda codec: codec == "h264_nvenc")
    monkeypatch.setattr(EncodeSettings, "try_open", lambda *args: None)  # no NVENC to open on this machine
    settings, notes = resolved("web", keep_up=True)
    assert settings.codec == "h264_nvenc" and len(notes) == 1 and "h264_nvenc" in notes[0][0]
    assert settings.options() == {"preset": "p5", "tune": "hq", "rc": "vbr", "cq": "18", "b": "0"}
    preview, _ = resolved("preview")
    assert preview.codec == "h264_nvenc" and preview.options() == {"preset": "p1", "rc": "vbr", "cq": "28", "b": "0"}
    assert resolved("web", codec="libx264")[0].codec == "libx264"  # --codec still decides
    archive, notes = EncodeSettings(preset="archive").resolve("matroska", Path("out.mkv"), 96, 64)
    assert archive.codec == "ffv1" and notes == []


def test_an_nvenc_encoder_that_does_not_open_is_refused_in_one_line(cli, film, tmp_path):
    from vidcolor.media import hardware

    if hardware.opens("h264_nvenc"):
        pytest.skip("this machine has NVENC")
    code, output = cli(film, "-o", tmp_path / "out.mp4", "--codec", "h264_nvenc")
    assert code == 1 and "h264_nvenc does not open here" in output and "--codec libx264" in output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output
    assert list(tmp_path.iterdir()) == []
