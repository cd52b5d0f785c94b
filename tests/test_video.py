"""The main path on real generated videos: frames, timestamps, geometry, copied audio, color."""
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from media_factory import decoded_rgb, frame_times, packets, write_video


def chroma(rgb: np.ndarray) -> float:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32)
    return float(np.abs(lab[:, :, 1:] - 128).mean())


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("in") / "film.mp4", width=96, height=64, frames=30,
                       fps=24, audio_tracks=2)


def test_video_keeps_frames_timestamps_size_and_audio(cli, film, tmp_path):
    out = tmp_path / "out.mp4"
    code, output = cli(film, "-o", out)
    assert code == 0, output

    assert frame_times(out) == frame_times(film)
    assert len(frame_times(out)) == 30
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (96, 64)
        assert [s.type for s in c.streams].count("audio") == 2
    # Audio is copied packet for packet: same bytes, same times, both tracks.
    assert packets(out, "audio") == packets(film, "audio")
    assert all(len(track) > 20 for track in packets(film, "audio"))

    src, dst = decoded_rgb(film), decoded_rgb(out)
    assert min(chroma(f) for f in dst) > 2.0, "output has no color"
    assert max(chroma(f) for f in src) < 0.5, "input was not gray"
    # Lossy H.264 at CRF 18 on tiny busy frames: the lightness stays close.
    assert np.mean([lightness_error(a, b).mean() for a, b in zip(src, dst)]) < 3.0


def lightness_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    la = cv2.cvtColor(a, cv2.COLOR_RGB2Lab)[:, :, 0].astype(np.float32)
    return np.abs(la - cv2.cvtColor(b, cv2.COLOR_RGB2Lab)[:, :, 0].astype(np.float32))


def test_lightness_is_the_inputs_in_a_lossless_output(cli, film, tmp_path):
    out = tmp_path / "lossless.mp4"
    code, output = cli(film, "-o", out, "--codec", "libx264rgb", "--pix-fmt", "rgb24", "--crf", "0")
    assert code == 0, output
    errors = np.concatenate([lightness_error(a, b).ravel() for a, b in zip(decoded_rgb(film), decoded_rgb(out))])
    # Only the color is the model's. Out-of-gamut colors are clipped to RGB (as officially),
    # which moves the lightness of a few saturated pixels.
    assert errors.mean() < 0.6
    assert np.percentile(errors, 99) <= 3


def test_variable_frame_rate_timestamps_are_kept(cli, tmp_path):
    pts = [0, 40, 60, 150, 190, 200, 330, 400, 410, 500, 620, 700]
    film = write_video(tmp_path / "vfr.mp4", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    out = tmp_path / "out.mp4"
    code, output = cli(film, "-o", out)
    assert code == 0, output
    expected = [Fraction(p, 1000) for p in pts]
    assert frame_times(film) == expected
    assert frame_times(out) == expected
    assert packets(out, "audio") == packets(film, "audio")


def test_sample_aspect_ratio_and_rotation_are_kept(cli, tmp_path):
    film = write_video(tmp_path / "sar.mov", width=96, height=64, frames=6, sar=Fraction(16, 11),
                       rotation=90, audio=False)
    out = tmp_path / "out.mov"
    code, output = cli(film, "-o", out)
    assert code == 0, output
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert v.sample_aspect_ratio == Fraction(16, 11)
        rotations = {round(f.rotation) for f in c.decode(v)}
    assert rotations == {90}


def test_start_and_duration_colorize_a_part(cli, film, tmp_path):
    out = tmp_path / "part.mp4"
    code, output = cli(film, "-o", out, "--start", "0.5", "--duration", "0:00.5")
    assert code == 0, output
    times = frame_times(out)
    assert len(times) == 12  # frames at 0.5 <= t < 1.0 at 24 fps
    assert times[0] == 0 and times[1] == Fraction(1, 24)
    audio = packets(out, "audio")[0]
    src_audio = packets(film, "audio")[0]
    assert audio and all(0 <= t < Fraction(1, 2) for _, t, _ in audio)
    # The copied packets are the input's own, shifted in time only.
    inside = [p for p in src_audio if Fraction(1, 2) <= p[1] < 1]
    assert [b for b, _, _ in audio] == [b for b, _, _ in inside]


def test_parity_and_default_differ_only_in_chroma_upsampling(cli, film, tmp_path):
    a, b = tmp_path / "default.mp4", tmp_path / "parity.mp4"
    assert cli(film, "-o", a, "--codec", "libx264rgb", "--pix-fmt", "rgb24", "--crf", "0")[0] == 0
    assert cli(film, "-o", b, "--codec", "libx264rgb", "--pix-fmt", "rgb24", "--crf", "0", "--parity")[0] == 0
    fa, fb = decoded_rgb(a)[5], decoded_rgb(b)[5]
    la = cv2.cvtColor(fa, cv2.COLOR_RGB2Lab).astype(int)
    lb = cv2.cvtColor(fb, cv2.COLOR_RGB2Lab).astype(int)
    assert np.percentile(np.abs(la[:, :, 0] - lb[:, :, 0]), 99) <= 2  # same lightness, but for gamut clipping
    assert np.abs(la[:, :, 1:] - lb[:, :, 1:]).max() > 3  # nearest vs bilinear chroma


def test_existing_output_needs_overwrite(cli, film, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    code, output = cli(film, "-o", out)
    assert code == 1 and "already exists" in output
    assert out.read_bytes() == b"keep me"
    code, output = cli(film, "-o", out, "--overwrite", "--duration", "0.2")
    assert code == 0, output
    assert len(frame_times(out)) == 5


def test_input_is_never_modified_and_no_temporary_file_is_left(cli, film, tmp_path):
    before = film.read_bytes()
    out = tmp_path / "out.mkv"
    assert cli(film, "-o", out, "--duration", "0.25")[0] == 0
    assert film.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mkv"]
    assert packets(out, "audio")[0]  # aac carried into Matroska too


@pytest.mark.parametrize("sar", [Fraction(12, 11), Fraction(10, 11)], ids=["PAL-12:11", "NTSC-10:11"])
def test_every_preset_keeps_the_pixel_shape_of_a_dv_source(sar, colorizer, tmp_path):
    """DV and PAL/NTSC 4:3 sources have non-square pixels; an archive master in Matroska (FFV1,
    which carries none itself) once lost them, and every frame played stretched."""
    from vidcolor import colorize_video

    film = write_video(tmp_path / "dv.mov", width=96, height=64, frames=4, sar=sar, audio=False)
    for preset, name in (("web", "web.mp4"), ("archive", "archive.mkv"), ("master", "master.mov"),
                         ("preview", "preview.webm"), ("web", "web.mkv")):
        out = tmp_path / name
        colorize_video(film, out, colorizer=colorizer, preset=preset, quiet=True)
        with av.open(str(out)) as c:
            got = c.streams.video[0].sample_aspect_ratio
        if name.endswith(".webm"):  # WebM's display width is whole pixels: the shape within one of them
            assert got is not None and abs(got - sar) * 96 <= 1, (name, got)
        else:
            assert got == sar, (preset, name, got)
    # Joined from segments (each a Matroska file of FFV1), the film's shape is the output's.
    joined = tmp_path / "joined.mkv"
    long = write_video(tmp_path / "long.mov", width=96, height=64, frames=24, fps=24, sar=sar, audio=False)
    colorize_video(long, joined, colorizer=colorizer, preset="archive", quiet=True, segment_seconds=0.5,
                   smooth_strength=0)
    with av.open(str(joined)) as c:
        assert c.streams.video[0].sample_aspect_ratio == sar
