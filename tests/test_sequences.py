"""Image sequences (a printf pattern, or a folder written to a video file) colorized as one film."""
from fractions import Fraction

import cv2
import numpy as np

from media_factory import decoded_rgb, frame_times, moving_gray
from test_video import chroma, lightness_error


def write_frames(folder, count=10, width=96, height=64, first=1, ext="png"):
    folder.mkdir(parents=True, exist_ok=True)
    frames = [moving_gray(width, height, i) for i in range(count)]
    for i, gray in enumerate(frames):
        cv2.imwrite(str(folder / f"scan_{first + i:06d}.{ext}"), gray)
    return frames


def test_printf_pattern_becomes_one_film_at_the_given_rate(cli, tmp_path):
    frames = write_frames(tmp_path / "scans")
    (tmp_path / "scans" / "notes.txt").write_text("not a frame")
    out = tmp_path / "film.mp4"
    code, output = cli(tmp_path / "scans" / "scan_%06d.png", "-o", out, "--fps", "25",
                       "--codec", "libx264rgb", "--pix-fmt", "rgb24", "--crf", "0")
    assert code == 0, output
    assert frame_times(out) == [Fraction(i, 25) for i in range(10)]
    colored = decoded_rgb(out)
    assert min(chroma(f) for f in colored) > 2.0
    # The scans' own lightness, in their order.
    errors = [lightness_error(np.repeat(g[:, :, None], 3, axis=2), c).mean() for g, c in zip(frames, colored)]
    assert max(errors) < 1.0


def test_folder_of_frames_written_to_a_video_file_is_a_sequence(cli, tmp_path):
    write_frames(tmp_path / "reel", count=6, ext="tif")
    out = tmp_path / "reel.mkv"
    code, output = cli(tmp_path / "reel", "-o", out)
    assert code == 0, output
    assert len(frame_times(out)) == 6  # at 24 frames per second, in milliseconds
    assert abs(frame_times(out)[5] - Fraction(5, 24)) <= Fraction(1, 2000)
    # The same folder to a folder is still a folder of stills.
    code, output = cli(tmp_path / "reel", "-o", tmp_path / "stills")
    assert code == 0 and len(list((tmp_path / "stills").iterdir())) == 6


def test_bad_sequences_are_one_line_errors(cli, tmp_path):
    write_frames(tmp_path / "scans", count=3)
    for args, words in [
        ((tmp_path / "scans" / "other_%04d.png", "-o", tmp_path / "a.mp4"), "no files match"),
        ((tmp_path / "none" / "f_%04d.png", "-o", tmp_path / "a.mp4"), "does not exist"),
        ((tmp_path / "scans" / "scan_%06d.png", "-o", tmp_path / "a.mp4", "--fps", "0"), "--fps"),
    ]:
        code, output = cli(*args)
        assert code == 1 and words in output and len(output.strip().splitlines()) == 1, output
    assert not (tmp_path / "a.mp4").exists()


def test_every_frame_of_a_folder_in_natural_order_of_names(cli, tmp_path):
    """scan_2 comes before scan_10, and .jpg and .jpeg frames are one format: all are read."""
    reel = tmp_path / "reel"
    reel.mkdir()
    frames = [moving_gray(96, 64, 4 * i) for i in range(12)]
    for i, gray in enumerate(frames):
        cv2.imwrite(str(reel / f"scan_{i}.{'jpeg' if i % 3 == 0 else 'jpg'}"), gray, [cv2.IMWRITE_JPEG_QUALITY, 98])
    out = tmp_path / "reel.mkv"
    code, output = cli(reel, "-o", out, "--codec", "ffv1", "--pix-fmt", "yuv444p")
    assert code == 0, output
    colored = decoded_rgb(out)
    assert len(colored) == 12
    errors = [lightness_error(np.repeat(g[:, :, None], 3, axis=2), c).mean() for g, c in zip(frames, colored)]
    assert max(errors) < 3.0  # each frame is the scan of its number (JPEG off by a little)
    assert not list(tmp_path.glob("vidcolor-sequence-*"))


def test_a_folder_of_mixed_formats_or_sizes_is_refused_naming_the_problem(cli, tmp_path):
    mixed = tmp_path / "mixed"
    write_frames(mixed, count=2, ext="png")
    cv2.imwrite(str(mixed / "scan_000003.tif"), moving_gray(96, 64, 3))
    cv2.imwrite(str(mixed / "scan_000004.jpg"), moving_gray(96, 64, 4))
    code, output = cli(mixed, "-o", tmp_path / "a.mp4")
    assert code == 1 and len(output.strip().splitlines()) == 1, output
    assert "must hold one image format" in output and "jpeg 1, png 2, tiff 1" in output

    sizes = tmp_path / "sizes"
    write_frames(sizes, count=5)
    cv2.imwrite(str(sizes / "scan_000003.png"), moving_gray(100, 64, 3))
    code, output = cli(sizes, "-o", tmp_path / "b.mp4")
    assert code == 1 and len(output.strip().splitlines()) == 1, output
    assert "scan_000003.png (frame 2 in name order) is 100x64, but the frames before it are 96x64" in output
    assert not (tmp_path / "a.mp4").exists() and not (tmp_path / "b.mp4").exists()
    assert not any(p.name.startswith(".b.") for p in tmp_path.iterdir())


def test_folder_to_folder_names_what_it_skipped_and_recursive_mirrors_subfolders(cli, tmp_path):
    scans = tmp_path / "scans"
    write_frames(scans, count=2)
    write_frames(scans / "box_2", count=3)
    (scans / "notes.txt").write_text("not an image")
    code, output = cli(scans, "-o", tmp_path / "flat", quiet=False)
    assert code == 0, output
    assert "skipped 2 entries that are not images: notes.txt, box_2/ (--recursive" in output
    assert sorted(p.name for p in (tmp_path / "flat").iterdir()) == ["scan_000001.png", "scan_000002.png"]
    code, output = cli(scans, "-o", scans / "color", "--recursive", quiet=False)
    assert code == 0, output
    made = sorted(p.relative_to(scans / "color").as_posix() for p in (scans / "color").rglob("*.png"))
    assert made == ["box_2/scan_000001.png", "box_2/scan_000002.png", "box_2/scan_000003.png",
                    "scan_000001.png", "scan_000002.png"]
    assert "skipped 1 entry that is not an image: notes.txt" in output


def test_a_16_bit_scan_sequence_into_a_10_bit_archive_keeps_its_depth(cli, tmp_path):
    """16-bit PNG scans into FFV1 10-bit: colorized at 16 bits, so the output keeps the scans'
    lightness finer than an 8-bit pipeline could."""
    reel = tmp_path / "reel"
    reel.mkdir()
    rng = np.random.default_rng(1)
    scans = []
    for i in range(6):
        gray = moving_gray(96, 64, 2 * i).astype(np.uint16) * 257 + rng.integers(0, 250, (64, 96)).astype(np.uint16)
        cv2.imwrite(str(reel / f"scan_{i:04d}.png"), np.dstack([gray] * 3))
        scans.append(gray)
    out = tmp_path / "reel.mkv"
    code, output = cli(reel, "-o", out, "--preset", "archive", "--no-smooth")
    assert code == 0, output
    import av

    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv444p10le"
        colored = [f.to_ndarray(format="rgb48le") for f in c.decode(video=0)]
    assert len(colored) == 6

    def lightness(rgb16):
        return cv2.cvtColor(rgb16.astype(np.float32) / 65535, cv2.COLOR_RGB2Lab)[..., 0]

    for gray, rgb in zip(scans, colored):
        truth = lightness(np.dstack([gray] * 3))
        eight_bit = lightness(np.dstack([gray // 257 * 257] * 3))  # what 8 bits would have kept
        assert np.abs(rgb[..., 0].astype(int) - rgb[..., 2]).mean() > 257  # colored
        assert np.abs(lightness(rgb) - truth).mean() < 0.7 * np.abs(eight_bit - truth).mean()
