"""Every common container in and out, odd frame sizes, and output types refused before any work."""
import av
import pytest

from media_factory import frame_times, write_video

# (input file, encoder to write it with, extra arguments to write_video)
CONTAINERS = [
    ("film.mkv", "libx264", {}),
    ("film.mov", "libx264", {}),
    ("film.webm", "libvpx-vp9", {"audio": False}),
    ("film.avi", "mpeg4", {"audio": False}),
    ("film.ts", "mpeg2video", {"audio": False}),
    ("film.mxf", "mpeg2video", {"audio": False, "fps": 25}),
    ("film.wmv", "wmv2", {"audio": False}),
]


def video_of(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return c.format.name, v.codec_context.name, v.codec_context.width, v.codec_context.height, \
            v.codec_context.pix_fmt


@pytest.mark.parametrize("name, codec, extra", CONTAINERS, ids=[c[0] for c in CONTAINERS])
def test_each_container_colorizes_into_the_same_kind_of_file(cli, tmp_path, name, codec, extra):
    src = write_video(tmp_path / name, codec=codec, frames=12, **extra)
    out = tmp_path / f"out_{name}"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert frame_times(out) == frame_times(src) and len(frame_times(src)) == 12
    fmt, out_codec, w, h, _ = video_of(out)
    assert fmt == video_of(src)[0] and (w, h) == video_of(src)[2:4]
    # H.264 wherever the container holds it with exact timestamps; else the container's own.
    assert out_codec == {".webm": "vp9", ".avi": "mpeg4", ".wmv": "mpeg4"}.get(src.suffix, "h264")


def test_animated_gif_in_colorized_out_as_mp4_and_gif_out_refused(cli, tmp_path):
    src = write_video(tmp_path / "anim.gif", codec="gif", pix_fmt="rgb8", frames=8, fps=10, audio=False)
    code, output = cli(src, "-o", tmp_path / "anim.mp4")
    assert code == 0, output
    assert len(frame_times(tmp_path / "anim.mp4")) == 8
    code, output = cli(src, "-o", tmp_path / "again.gif")
    assert code == 1 and output.strip() == (f"vidcolor: error: {tmp_path / 'again.gif'}: GIF holds 256 colors "
                                            "per frame, too few for colorized film; write .mp4, .mkv or .webm")
    assert not (tmp_path / "again.gif").exists()


def test_codec_the_container_cannot_hold_is_refused_before_decoding(cli, tmp_path, monkeypatch):
    from vidcolor.media import decode

    src = write_video(tmp_path / "film.mp4", frames=6)
    monkeypatch.setattr(decode, "to_rgb", lambda frame: pytest.fail("a frame was decoded"))
    code, output = cli(src, "-o", tmp_path / "out.webm", "--codec", "libx264")
    assert code == 1
    assert output.strip() == f"vidcolor: error: {tmp_path / 'out.webm'}: a webm file cannot hold libx264 video; " \
        "use --codec libvpx-vp9"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


@pytest.mark.parametrize("size", [(95, 63), (97, 64)])
def test_odd_frame_sizes_keep_every_pixel(cli, tmp_path, size):
    w, h = size
    src = write_video(tmp_path / "odd.mp4", width=w, height=h, pix_fmt="yuv444p", frames=6, audio=False)
    out = tmp_path / "out.mp4"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    # Nothing is lost (4:4:4 keeps every pixel): a plain line, not a warning.
    assert f"vidcolor: {out}: the frame size {w}x{h} has an odd side" in output and "warning" not in output
    _, codec, ow, oh, pix_fmt = video_of(out)
    assert (ow, oh) == (w, h) and pix_fmt == "yuv444p"
    assert frame_times(out) == frame_times(src)
    # Asked for explicitly, 4:2:0 at an odd size is refused with the reason.
    code, output = cli(src, "-o", tmp_path / "o2.mp4", "--pix-fmt", "yuv420p")
    assert code == 1 and "odd" not in output and "chroma subsampling needs even sides" in output
