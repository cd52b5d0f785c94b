"""Progress as events: totals for whole films and their parts, batches counted in frames, the
estimate of the time left and the faster choices, evaluation; the CLI draws the same events."""
import re
from fractions import Fraction
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

import vidcolor.progress as progress_module
from conftest import TEST_SIZE
from media_factory import decoded_rgb, write_video
from vidcolor import colorize_video, evaluate_video
from vidcolor.batch import run_batch
from vidcolor.models.advice import HALF_SIZE_SPEEDUP, TINY_SPEEDUP, speed_advice
from vidcolor.run.film import PICTURE_WIDTH
from vidcolor.progress import ADVANCE, END, ESTIMATE, PICTURE, PICTURE_EVERY, START, Progress

FPS = 24


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def of(self, task, kind=None):
        return [e for e in self if e.task == task and (kind is None or e.kind == kind)]


@pytest.fixture(scope="module")
def late_picture(tmp_path_factory):
    """A film whose picture starts 2 s into the file's clock, after its sound: 48 frames."""
    return write_video(tmp_path_factory.mktemp("late") / "late.mkv", frames=48, fps=FPS,
                       pts=[2 * FPS + i for i in range(48)], time_base=Fraction(1, FPS))


def frame_count(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def test_a_part_has_a_total_and_every_frame_is_counted(colorizer, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=48)
    events = Recorder()
    summary = colorize_video(src, tmp_path / "out.mp4", colorizer=colorizer, start=0.5, duration=1, quiet=True,
                             on_progress=events)
    started, = events.of("frames", START)
    assert started.total == FPS == summary.frames == frame_count(tmp_path / "out.mp4")
    advances = events.of("frames", ADVANCE)
    assert [e.done for e in advances] == list(range(1, summary.frames + 1))
    assert all(e.total == FPS and e.label == "film.mp4" for e in advances)
    assert advances[-1].rate > 0 and advances[-1].eta == 0
    assert events.of("frames", END)[0].done == summary.frames
    assert events[-1].kind == END  # nothing after the run's end
    # A picture of the work: the first frame written, small, then one every PICTURE_EVERY seconds at most.
    pictures = events.of("frames", PICTURE)
    assert 1 <= len(pictures) <= 1 + summary.seconds / PICTURE_EVERY
    shown = cv2.imdecode(np.frombuffer(pictures[0].picture, np.uint8), cv2.IMREAD_COLOR)
    first = next(iter(decoded_rgb(tmp_path / "out.mp4")))
    assert shown.shape == (round(PICTURE_WIDTH * first.shape[0] / first.shape[1]) // 2 * 2, PICTURE_WIDTH, 3)
    small = cv2.resize(first, shown.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(cv2.cvtColor(shown, cv2.COLOR_BGR2RGB).astype(int) - small).mean() < 8
    assert "picture" not in pictures[0].as_dict()


def test_loading_the_model_is_a_step(tiny_weights, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=6)
    events = Recorder()
    colorize_video(src, tmp_path / "out.mp4", weights=tiny_weights, input_size=TEST_SIZE, device="cpu", quiet=True,
                   on_progress=events)
    kinds = [(e.task, e.kind) for e in events]
    assert kinds[:2] == [("load", START), ("load", END)]
    assert events[0].label == f"loading model {tiny_weights.name}" and events[0].unit == ""
    assert kinds.index(("frames", START)) > 1


def test_an_estimate_once_the_pace_is_measured_with_the_faster_choices(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: clock[0])
    large_on_cpu = SimpleNamespace(device=SimpleNamespace(type="cpu"), input_size=512,
                                   model=SimpleNamespace(hyperparameters={"encoder_name": "convnext-l"}))
    events = Recorder()
    task = Progress(events).task("frames", "film.mp4", total=1000, advice=speed_advice(large_on_cpu))
    for _ in range(5):
        clock[0] += 4.0  # 4 s a frame
        task.advance()
    estimate, = events.of("frames", ESTIMATE)  # once
    assert estimate.rate == pytest.approx(0.25) and estimate.eta == pytest.approx(998 * 4)
    assert estimate.message.startswith("film.mp4: 998 frames to go at 4.0 s/frame (measured): about 1 h 06 min")
    assert events.index(estimate) == 3  # after the second frame: the first only starts the clock
    # The faster choices, with the time each would take at this measured pace.
    left = 998 * 4
    # (named as the API names them: the command line says --model and --input-size)
    assert f"model paper-tiny about {progress_module.duration_text(left / TINY_SPEEDUP)}" in estimate.message
    assert f"input_size 256 about {progress_module.duration_text(left / HALF_SIZE_SPEEDUP)}" in estimate.message
    # Not for a short run, nor with a GPU or the tiny model.
    events.clear()
    short = Progress(events).task("frames", "short.mp4", total=10, advice=speed_advice(large_on_cpu))
    for _ in range(5):
        clock[0] += 4.0
        short.advance()
    assert events.of("frames", ESTIMATE) == []
    assert speed_advice(SimpleNamespace(**{**vars(large_on_cpu), "device": SimpleNamespace(type="cuda")})) is None


def test_the_tiny_model_gets_no_advice(colorizer):
    assert colorizer.model.hyperparameters["encoder_name"] == "convnext-t"
    assert speed_advice(colorizer) is None


@pytest.mark.slow  # about 13 s
def test_a_batch_counts_frames_across_items_and_each_items_own(tiny_weights, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_video(folder / "a.mp4", frames=30)
    write_video(folder / "b.mp4", frames=20)
    events = Recorder()
    summary = run_batch([folder], tmp_path / "out", weights=tiny_weights, input_size=TEST_SIZE, device="cpu",
                        segment_seconds=0.5, quiet=True, on_progress=events)
    assert summary.failed == 0
    batch_start, = events.of("batch", START)
    assert batch_start.total == 50 and batch_start.label == "batch of 2"
    assert events.of("batch", END)[0].done == 50
    done = {e.label: e.done for e in events.of("item", END)}
    assert done == {"a.mp4": 30, "b.mp4": 20}
    # Frames are counted as the workers write them, not only when an item ends.
    a = [e.done for e in events.of("item", ADVANCE) if e.label == "a.mp4"]
    assert len(a) >= 2 and a == sorted(a) and a[-1] == 30
    # The workers' pictures of the work reach the driver as the items' own.
    assert {e.label for e in events.of("item", PICTURE)} == {"a.mp4", "b.mp4"}


def test_eval_counts_frames_and_scores_a_part_given_its_start_and_duration(colorizer, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=48)
    part = tmp_path / "part.mp4"
    colorize_video(src, part, colorizer=colorizer, start=0.5, duration=1, quiet=True)
    from vidcolor import VidcolorError

    with pytest.raises(VidcolorError, match="measure it with the same start and duration"):
        evaluate_video(src, part)
    events = Recorder()
    result = evaluate_video(src, part, start=0.5, duration=1, on_progress=events)
    assert result["frames"] == FPS
    assert events.of("eval", START)[0].total == FPS
    assert events.of("eval", END)[0].done == FPS


def test_start_and_duration_count_from_the_first_picture(cli, late_picture, tmp_path):
    out = tmp_path / "part.mkv"
    code, output = cli(late_picture, "-o", out, "--start", "0.5", "--duration", "1", "--codec", "ffv1")
    assert code == 0, output
    assert frame_count(out) == FPS  # the picture's 0.5 s to 1.5 s, not the file's (before the picture)
    # The first frame written is the picture's frame 12 (its own gray pattern), at 0 in the output.
    with av.open(str(out)) as c:
        first = next(c.decode(c.streams.video[0]))
        assert first.pts == 0


def test_a_start_past_the_picture_says_where_it_ends(cli, late_picture, tmp_path):
    code, output = cli(late_picture, "-o", tmp_path / "x.mkv", "--start", "60", quiet=False)
    assert code == 1
    # Matroska does not say how long its video lasts: the file's end (its audio's, here) stands in.
    m = re.fullmatch(rf"vidcolor: error: {re.escape(str(late_picture))}: --start 1:00.000 is past the end of the "
                     r"picture, which lasts 0:(\S+) \(from 0:00.000 to 0:(\S+) on the --start clock\)", output.strip())
    assert m and m[1] == m[2] and float(m[1]) == pytest.approx(2.0, abs=0.05), output
    assert not (tmp_path / "x.mkv").exists()


def test_the_cli_draws_the_bars_from_the_events(cli, tmp_path):
    src = write_video(tmp_path / "film.mp4", frames=30)
    code, output = cli(src, "-o", tmp_path / "out.mp4", "--duration", "0.5", quiet=False)
    assert code == 0, output
    assert "12/12" in output  # the part's total, known before the first frame
    assert "loading model" not in output  # a transient line on a terminal only; a log keeps what is finished
