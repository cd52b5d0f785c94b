"""Help that shows the way, and options that contradict one another refused, naming both."""
import re

import pytest
from click.testing import CliRunner

from media_factory import write_video
from vidcolor.cli import main


def help_of(*args) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], prog_name="vidcolor", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_top_help_shows_the_common_usage_and_the_most_used_options():
    text = help_of()
    assert text.startswith("Usage: vidcolor INPUT -o OUTPUT [OPTIONS]\n   or: vidcolor COMMAND [ARGS]...")
    section = text[text.index("Most used options"):text.index("\nOptions:")]
    assert "vidcolor colorize --help" in section.splitlines()[0]
    for option in ("-o, --output", "--model", "--input-size", "--preset", "--start", "--duration",
                   "--smooth-strength", "--device"):
        assert option in section, option
    # Each command's summary is a whole sentence, not cut off.
    commands = text[text.index("Commands:"):]
    summaries = re.findall(r"^  (\w+) +(.+?)(?=^  \w|\Z)", commands, re.S | re.M)
    assert {name for name, _ in summaries} == {"batch", "colorize", "eval", "keyframes", "serve", "weights"}
    for name, summary in summaries:
        assert summary.strip().endswith(".") and "..." not in summary, (name, summary)


@pytest.mark.parametrize("command", ["colorize", "batch"])
def test_options_are_grouped_as_people_look_for_them(command):
    text = help_of(command)
    titles = [line[:-1] for line in text.splitlines() if line and not line[0].isspace() and line.endswith(":")]
    assert titles[:5] == ["Model", "Output", "Time", "Color", "Smoothing"]
    group = text[text.index("\nTime:"):text.index("\nColor:")]
    assert "--start" in group and "picture's clock" in group


def test_model_and_weights_together_are_refused_naming_both(cli, tiny_weights, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=4)
    code, output = cli(src, "-o", tmp_path / "out.mp4", "--model", "modelscope", quiet=False)
    assert code == 1
    assert output.strip() == (f"vidcolor: error: --model modelscope and --weights {tiny_weights} both say which "
                              "network to use: give one of them (--weights replaces --model)")
    assert not (tmp_path / "out.mp4").exists()
    code, output = cli("batch", src, "-o", tmp_path / "b", "--model", "paper")
    assert code == 1 and "--model paper and --weights" in output


def test_smoothing_a_still_or_out_of_range_is_refused(cli, tmp_path):
    import cv2
    import numpy as np

    still = tmp_path / "photo.png"
    cv2.imwrite(str(still), np.full((32, 48), 128, np.uint8))
    code, output = cli(still, "-o", tmp_path / "out.png", "--smooth-strength", "0.5")
    assert code == 1
    assert output.strip() == (f"vidcolor: error: {still}: --smooth-strength smooths a film's color over time; "
                              "a still has no time to smooth over")
    code, output = cli(still, "-o", tmp_path / "out.png", "--smooth-strength", "2")
    assert code == 2 and "2.0 is not in the range 0<=x<=1" in output
    assert not (tmp_path / "out.png").exists()


def test_failed_batch_items_say_how_to_try_them_again(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    code, output = cli("batch", folder, "-o", tmp_path / "out", quiet=False)
    assert code == 1
    assert "1 failed (add --retry-failed to the same command to try them again)" in output
