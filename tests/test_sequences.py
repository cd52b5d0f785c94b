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
