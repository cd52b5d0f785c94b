"""Frames with an alpha channel: the transparency kept where the output can hold it, else
dropped with a warning; the colorization is the same either way."""
import av
import numpy as np
import pytest

from media_factory import moving_gray
from vidcolor.media.decode import decode_frames, stream_has_alpha
from vidcolor.media.timeline import Span

W, H, N = 96, 64, 12


def mask(i):
    """A wipe growing to the right, with a half-transparent band."""
    a = np.zeros((H, W), np.uint8)
    a[:, : 8 * (i + 1)] = 255
    a[10:20] = 128
    return a


def write_with_alpha(path, codec, pix_fmt, options=None):
    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=24, options=options or {})
        v.width, v.height, v.pix_fmt = W, H, pix_fmt
        for i in range(N):
            g = moving_gray(W, H, i)
            frame = av.VideoFrame.from_ndarray(np.dstack([g, g, g, mask(i)]), format="rgba").reformat(format=pix_fmt)
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path


def alphas_and_format(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [f.alpha for f in decode_frames(c, s, Span(), path)], s.codec_context.pix_fmt, stream_has_alpha(s)


@pytest.mark.parametrize("src_name, codec, pix_fmt, options, out_name, extra, out_fmt, tolerance", [
    ("png.mov", "png", "rgba", None, "archive.mkv", ["--preset", "archive"], "yuva444p10le", 1),
    ("vp9.webm", "libvpx-vp9", "yuva420p", None, "out.webm", [], "yuv420p", 3),  # alpha beside, in WebM
    ("prores.mov", "prores_ks", "yuva444p10le", {"profile": "4"}, "master.mov", ["--preset", "master"],
     "yuva444p12le", 1),
    ("png2.mov", "png", "rgba", None, "png_out.mov", ["--codec", "png"], "rgba", 0),
], ids=["png-to-ffv1", "vp9-webm", "prores-4444", "png-to-png"])
def test_alpha_is_kept_where_the_output_holds_it(cli, tmp_path, src_name, codec, pix_fmt, options, out_name,
                                                 extra, out_fmt, tolerance):
    src = write_with_alpha(tmp_path / src_name, codec, pix_fmt, options)
    out = tmp_path / out_name
    code, output = cli(src, "-o", out, *extra)
    assert code == 0, output
    # Nothing is lost: a plain line, not a warning.
    assert f"vidcolor: {out}: the alpha channel (transparency) is kept" in output
    alpha_in, _, _ = alphas_and_format(src)
    alpha_out, fmt, flagged = alphas_and_format(out)
    assert flagged and fmt == out_fmt and len(alpha_out) == N
    assert max(int(np.abs(a.astype(int) - b).max()) for a, b in zip(alpha_in, alpha_out)) <= tolerance
    assert np.abs(alpha_out[3].astype(int) - mask(3)).max() <= 2 * tolerance  # the wipe, lossy twice at most
    if out.suffix == ".mov" and "--preset" in extra:
        with av.open(str(out)) as c:
            assert c.streams.video[0].codec_context.profile == "4444"


def test_alpha_is_dropped_with_a_warning_where_the_output_cannot_hold_it(cli, tmp_path):
    src = write_with_alpha(tmp_path / "vp9.webm", "libvpx-vp9", "yuva420p")
    out = tmp_path / "web.mp4"
    code, output = cli(src, "-o", out)
    assert code == 0, output
    assert f"vidcolor: warning: {out}: the input's alpha channel (transparency) is dropped: libx264 cannot " \
        "store one" in output
    alpha_out, fmt, flagged = alphas_and_format(out)
    assert not flagged and fmt == "yuv420p" and alpha_out == [None] * N
    with av.open(str(out)) as c:
        assert "alpha_mode" not in {k.lower() for k in c.streams.video[0].metadata}
