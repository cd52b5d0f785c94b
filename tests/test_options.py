"""A run's options as one value: built from names, checked once, recorded and read back the same;
refused values named by the API's parameter, or by the CLI's flag on the command line."""
import itertools
import json
import math

import numpy as np
import pytest

from media_factory import write_video
from vidcolor import RunOptions
from vidcolor.errors import OptionError, VidcolorError
from vidcolor.options import AUTO, NAMES, ModelOptions

VALUES = {
    "model": ["paper-tiny"], "device": ["cpu", "cuda:1"], "input_size": [256, 1024], "batch_size": [3],
    "precision": ["bf16"], "workers": [2], "lab_on_device": [False, True], "channels_last": [False],
    "smooth_on_device": [True], "codec": ["ffv1"], "pix_fmt": ["yuv444p10le"], "preset": ["archive"],
    "encoder_preset": ["slow"], "crf": [0, 23], "start": [0.0, 90.5], "duration": [2.0], "fps": [23.976],
    "deinterlace": ["ivtc", "off"], "smooth_strength": [0.0, 0.8], "skip_color": [True],
    "references": [["keys/"], ["a.png@1:00", "b.png@2"]], "hints": ["hints.json"],
    "segment_seconds": [None, 12.5], "fresh": [True], "audio": ["copy", "flac"],
}


def varied_options():
    """Every value above, alone and in combinations that are allowed together."""
    names = sorted(VALUES)
    for name in names:
        for value in VALUES[name]:
            yield {name: value}
    for a, b, c in itertools.combinations(names, 3):
        if {"model", "weights"} <= {a, b, c}:
            continue
        yield {a: VALUES[a][-1], b: VALUES[b][0], c: VALUES[c][-1]}
    yield {"weights": "w.pth", "parity": True, "smooth_strength": 0.0}


def test_every_option_is_covered_and_the_record_reads_back_as_the_same_value():
    assert set(VALUES) | {"weights", "parity"} == set(NAMES)
    count = 0
    for given in varied_options():
        options = RunOptions.from_mapping(given)
        record = options.record()
        assert set(record) == set(NAMES)
        back = RunOptions.from_mapping(json.loads(json.dumps(record)))  # as a manifest or a request holds it
        assert back == options and hash(back) == hash(options), given
        for name, value in given.items():
            assert record[name] == value, (name, record[name], value)
        count += 1
    assert count > 2000
    assert RunOptions.from_mapping({}) == RunOptions() and RunOptions().strength == 0.5


def test_times_are_parsed_once_and_keyframes_in_memory_compare_by_their_pixels():
    options = RunOptions.from_mapping(start="1:30", duration="00:00:02.5")
    assert (options.part.start, options.part.duration) == (90.0, 2.5)
    image = np.full((4, 6, 3), 7, np.uint8)
    a = RunOptions.from_mapping(references={12: image, "3": "k.png"})
    assert a.guides.given() == {3: "k.png", 12: image}
    assert a == RunOptions.from_mapping(references={12: image.copy(), 3: "k.png"})
    assert a != RunOptions.from_mapping(references={12: image + 1, 3: "k.png"})


@pytest.mark.parametrize("given, name, words", [
    ({"colour": "red"}, "colour", "unknown option(s): colour"),
    ({"input_size": 100}, "input_size", "input_size 100 must be a positive multiple of 32"),
    ({"input_size": "512"}, "input_size", "takes a whole number"),
    ({"input_size": True}, "input_size", "takes a whole number"),
    ({"batch_size": 0}, "batch_size", "batch_size 0 must be at least 1"),
    ({"precision": "fp8"}, "precision", "unknown precision 'fp8'"),
    ({"model": "nosuch"}, "model", "unknown model 'nosuch'"),
    ({"model": "paper", "weights": "w.pth"}, "weights", "model paper and weights w.pth both say which network"),
    ({"preset": "slow"}, "preset", "unknown preset 'slow'"),
    ({"start": "soon"}, "start", "start 'soon' is not a time"),
    ({"start": math.nan}, "start", "is not a time"),
    ({"start": -1}, "start", "start must not be negative"),
    ({"duration": 0}, "duration", "duration must be more than 0"),
    ({"fps": -24}, "fps", "fps -24.0 must be more than 0"),
    ({"fps": math.inf}, "fps", "takes a finite number"),
    ({"deinterlace": "maybe"}, "deinterlace", "deinterlace must be one of auto, on, off, ivtc"),
    ({"smooth_strength": 1.5}, "smooth_strength", "smooth_strength 1.5 must be between 0 (off) and 1"),
    ({"smooth_strength": 0.5, "parity": True}, "smooth_strength", "parity gives the official per-frame colors"),
    ({"segment_seconds": 0}, "segment_seconds", "segment_seconds 0.0: give auto or a number of seconds"),
    ({"segment_seconds": "soon"}, "segment_seconds", "takes a finite number"),
    ({"skip_color": "yes"}, "skip_color", "skip_color takes true or false"),
    ({"references": 5}, "references", "takes folders of keyframes"),
])
def test_each_bad_value_is_one_error_naming_its_option(given, name, words):
    with pytest.raises(OptionError) as caught:
        RunOptions.from_mapping(given)
    assert caught.value.option == name and words in str(caught.value), str(caught.value)


def test_the_api_and_the_command_line_name_the_same_problem_each_in_its_own_words(cli, tmp_path):
    from vidcolor import colorize_video

    film = write_video(tmp_path / "film.mp4", frames=4)
    with pytest.raises(VidcolorError, match=r"^segment_seconds 0.0: give auto"):
        colorize_video(film, tmp_path / "a.mp4", segment_seconds=0)
    with pytest.raises(VidcolorError, match=r"^parity gives the official"):
        colorize_video(film, tmp_path / "a.mp4", parity=True, smooth_strength=0.5)
    code, output = cli(film, "-o", tmp_path / "b.mp4", "--segment-seconds", "0")
    assert code == 1 and "vidcolor: error: --segment-seconds 0.0: give auto" in output, output
    code, output = cli(film, "-o", tmp_path / "b.mp4", "--parity", "--smooth-strength", "0.5")
    assert code == 1 and "vidcolor: error: --parity gives the official" in output, output
    assert list(tmp_path.iterdir()) == [film]  # refused before anything was written
    with pytest.raises(VidcolorError, match=r"^segment_seconds 0.0"):  # the CLI's words stay the CLI's
        colorize_video(film, tmp_path / "a.mp4", segment_seconds=0)


def test_options_and_keywords_together(tmp_path):
    options = RunOptions.from_mapping(preset="archive", smooth_strength=0.2)
    changed = options.replace(smooth_strength=0.3, codec="ffv1")
    assert (changed.color.smooth_strength, changed.encode.codec, changed.encode.preset) == (0.3, "ffv1", "archive")
    assert options.color.smooth_strength == 0.2  # frozen: a change is a new value
    with pytest.raises(AttributeError):
        options.audio = "copy"
    assert ModelOptions(input_size=256).colorizer_kwargs() == {"device": "auto", "input_size": 256,
                                                               "precision": "fp32", "parity": False}


def test_work_counts_again_only_under_the_settings_that_change_the_output(tmp_path):
    from vidcolor.resume.fingerprint import work_settings

    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    base = RunOptions.from_mapping(weights=str(weights), input_size=512)
    assert work_settings(base) == work_settings(RunOptions.from_mapping(weights=str(weights)))  # 512 is the default
    same = [base.replace(device="cuda", workers=3, batch_size=8, segment_seconds=AUTO, fresh=True)]
    other = [base.replace(input_size=256), base.replace(smooth_strength=0.2), base.replace(codec="ffv1"),
             base.replace(start=1), base.replace(audio="copy")]
    assert all(work_settings(o) == work_settings(base) for o in same)
    assert all(work_settings(o) != work_settings(base) for o in other)
    before = work_settings(base)
    weights.write_bytes(b"another")  # another file under the same name is another model
    assert work_settings(base) != before
    assert "smooth_strength" not in work_settings(base, "image")


def test_a_batch_an_older_vidcolor_recorded_still_counts_as_done(tmp_path):
    """The manifest's settings as the version before RunOptions wrote them (defaults spelled out,
    times as given): the same run, so a finished archive is not colorized again after an upgrade."""
    from vidcolor.resume.fingerprint import fingerprint, same_settings, work_settings

    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    old = json.dumps({"model": None, "weights": f"{weights.resolve()}:{fingerprint(weights)}", "input_size": 64,
                      "parity": False, "precision": "fp32", "deinterlace": "auto", "start": "0:01.5",
                      "smooth_strength": 0.5}, sort_keys=True)
    now = RunOptions.from_mapping(weights=str(weights), input_size=64, device="cpu", precision="fp32", parity=False,
                                  deinterlace="auto", start="0:01.5")
    assert same_settings(old, work_settings(now))
    assert not same_settings(old, work_settings(now.replace(input_size=128)))
    assert not same_settings(old, work_settings(now.replace(start=2)))
    assert not same_settings("not json", work_settings(now)) and not same_settings(None, work_settings(now))
