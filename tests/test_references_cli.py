"""The restorer's loop through the command line: keyframes out, one corrected, the film follows it;
stills take a reference too; bad references are named before anything is decoded."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import TEST_SIZE
from media_factory import color_texture, decoded_rgb, translate, write_frames
from vidcolor import lab
from vidcolor.errors import VidcolorError

TARGET = np.float32([55.0, 35.0])  # the corrected color, Lab ab: a strong orange-red


@pytest.fixture(scope="module")
def two_shots(tmp_path_factory):
    """Two different pans joined by a hard cut at frame 12, in gray."""
    a, b = color_texture(160, 96, seed=4), color_texture(160, 96, seed=5)
    b = (255 * (b / 255.0) ** 2.5).astype(np.uint8)  # a darker scene, unlike the first: a cut
    frames = [translate(a, i, 0) for i in range(12)] + [translate(b, 0, 0.5 * i) for i in range(12)]
    gray = [np.repeat(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2) for f in frames]
    return write_frames(tmp_path_factory.mktemp("film") / "film.mp4", gray)


def ab_of(frames) -> np.ndarray:
    return np.stack([lab.split(f)[1] for f in frames])


def recolored(path, ab=TARGET) -> np.ndarray:
    """The image at ``path`` in another color, its lightness kept: a restorer's correction."""
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    L, _ = lab.split(rgb)
    return lab.compose(L, np.broadcast_to(ab, L.shape + (2,)).astype(np.float32))


def test_keyframes_out_one_corrected_and_its_shot_follows(cli, two_shots, tmp_path):
    refs = tmp_path / "refs"
    code, output = cli("keyframes", two_shots, "-o", refs, quiet=False)
    assert code == 0, output
    names = sorted(p.name for p in refs.glob("*.png"))
    assert len(names) == 2 and names[1] >= "000012.png"  # one per shot, named by frame number
    assert f"wrote 2 keyframe(s) of 2 shot(s) into {refs}" in output
    record = json.loads((refs / ".vidcolor-keyframes.json").read_text())
    assert sorted(record["files"]) == names

    plain, untouched = tmp_path / "plain.mkv", tmp_path / "untouched.mkv"
    assert cli(two_shots, "-o", plain, "--codec", "ffv1")[0] == 0
    code, output = cli(two_shots, "-o", untouched, "--codec", "ffv1", "--references", refs, quiet=False)
    assert code == 0, output
    assert "2 of 2 keyframes are as vidcolor keyframes wrote them: only the corrected ones are references" in output
    assert all(np.array_equal(x, y) for x, y in zip(decoded_rgb(plain), decoded_rgb(untouched)))

    first = refs / names[0]
    cv2.imwrite(str(first), cv2.cvtColor(recolored(first), cv2.COLOR_RGB2BGR))
    guided = tmp_path / "guided.mkv"
    code, output = cli(two_shots, "-o", guided, "--codec", "ffv1", "--references", refs, quiet=False)
    assert code == 0, output
    assert "the references hold less than half of the picture in 0:00.500-0:00.958: a keyframe there" in output
    before, after = ab_of(decoded_rgb(plain)), ab_of(decoded_rgb(guided))
    shot = after[:12].reshape(-1, 2)
    assert np.abs(np.median(shot, axis=0) - TARGET).max() < 6  # the whole first shot follows
    assert np.abs(np.median(before[:12].reshape(-1, 2), axis=0) - TARGET).max() > 20  # which it did not
    assert np.abs(after[12:] - before[12:]).mean() < 0.5  # the second shot is untouched: nothing crosses the cut


def test_one_reference_given_by_its_time(cli, two_shots, tmp_path):
    frames = decoded_rgb(two_shots)
    key = tmp_path / "key.png"
    cv2.imwrite(str(key), cv2.cvtColor(recolored_rgb(frames[18]), cv2.COLOR_RGB2BGR))
    out = tmp_path / "out.mkv"
    code, output = cli(two_shots, "-o", out, "--codec", "ffv1", "--reference", f"{key}@0.75")  # frame 18
    assert code == 0, output
    shot = ab_of(decoded_rgb(out))[12:].reshape(-1, 2)
    # This shot is dark: the key's own colors, as an RGB file holds them, are the target.
    target = np.median(lab.split(cv2.cvtColor(cv2.imread(str(key)), cv2.COLOR_BGR2RGB))[1].reshape(-1, 2), axis=0)
    assert np.abs(np.median(shot, axis=0) - target).max() < 6

    missing = tmp_path / "missing.png"
    code, output = cli(two_shots, "-o", tmp_path / "x.mkv", "--reference", f"{missing}@0.5")
    assert code == 1 and output.strip() == f"vidcolor: error: {missing}: no such file"


def recolored_rgb(rgb: np.ndarray, ab=TARGET) -> np.ndarray:
    L, _ = lab.split(rgb)
    return lab.compose(L, np.broadcast_to(ab, L.shape + (2,)).astype(np.float32))


def test_a_still_takes_its_colors_from_a_reference(cli, tmp_path):
    rgb = color_texture(96, 64, seed=2)
    gray = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    still, ref, out = tmp_path / "photo.png", tmp_path / "ref.png", tmp_path / "photo_color.png"
    cv2.imwrite(str(still), gray)
    cv2.imwrite(str(ref), cv2.cvtColor(cv2.resize(recolored_rgb(gray), (48, 32)), cv2.COLOR_RGB2BGR))  # any size
    code, output = cli(still, "-o", out, "--reference", ref)
    assert code == 0, output
    colored = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert np.abs(np.median(lab.split(colored)[1].reshape(-1, 2), axis=0) - TARGET).max() < 6
    assert np.abs(lab.split(colored)[0] - lab.split(gray)[0]).mean() < 0.5  # its own lightness (8-bit RGB: to gamut)


@pytest.mark.parametrize("make, words", [
    (lambda d: cv2.imwrite(str(d / "000003.png"), np.zeros((50, 50, 3), np.uint8)),
     ["000003.png: 50x50 is not of the film's aspect ratio (160x96)"]),
    (lambda d: cv2.imwrite(str(d / "000300.png"), np.zeros((96, 160, 3), np.uint8)),
     ["000300.png: frame 300", "past the end of the film, which has 24 frames"]),
    (lambda d: cv2.imwrite(str(d / "shot one.png"), np.zeros((96, 160, 3), np.uint8)),
     ["shot one.png: a reference is named by its frame number (000240.png) or timecode (00-00-10-00.png)"]),
    (lambda d: (d / "000002.png").write_bytes(b"not an image"), ["000002.png: not a readable image"]),
], ids=["aspect", "past-end", "name", "unreadable"])
def test_bad_references_fail_before_decoding_naming_the_file(cli, two_shots, tmp_path, make, words):
    refs = tmp_path / "refs"
    refs.mkdir()
    make(refs)
    code, output = cli(two_shots, "-o", tmp_path / "out.mp4", "--references", refs, quiet=False)
    assert code == 1
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidcolor: error: "), output
    for word in words:
        assert word in lines[0], output
    assert not (tmp_path / "out.mp4").exists()


def test_references_are_per_film_not_per_batch(cli, two_shots, tmp_path):
    code, output = cli("batch", two_shots, "-o", tmp_path / "out", "--references", tmp_path)
    assert code == 2 and "a batch takes them from beside each film, as NAME.refs/ (keyframes) and " \
        "NAME.hints.json" in output
    from vidcolor.batch import run_batch

    other = tmp_path / "other.mp4"
    other.write_bytes(two_shots.read_bytes())
    with pytest.raises(VidcolorError, match="references and hints given to a batch are for its one film"):
        run_batch([two_shots, other], tmp_path / "out", references=str(tmp_path), quiet=True)
    with pytest.raises(VidcolorError, match="not a folder of keyframes"):
        run_batch([two_shots], tmp_path / "out", references=str(other), quiet=True)


@pytest.mark.slow  # about 20 s
def test_a_batch_picks_up_each_films_references_and_redoes_a_film_whose_keyframe_changed(cli, two_shots, tmp_path):
    import shutil

    archive, out, report = tmp_path / "archive", tmp_path / "out", tmp_path / "r.json"
    archive.mkdir()
    for name in ("film.mkv", "other.mkv"):
        shutil.copy(two_shots, archive / name)
    refs = archive / "film.refs"
    refs.mkdir()
    key = refs / "000004.png"
    cv2.imwrite(str(key), cv2.cvtColor(recolored_rgb(decoded_rgb(two_shots)[4]), cv2.COLOR_RGB2BGR))
    options = ["--codec", "ffv1", "--report", report]
    code, output = cli("batch", archive, "-o", out, *options)
    assert code == 0, output
    items = {Path(i["input"]).name: i for i in json.loads(report.read_text())["items"]}
    assert sorted(items) == ["film.mkv", "other.mkv"]  # the keyframe is not taken for a still to colorize
    assert items["film.mkv"]["notes"] == [f"{archive / 'film.mkv'}: follows film.refs"]
    film, other = ab_of(decoded_rgb(out / "film.mkv")), ab_of(decoded_rgb(out / "other.mkv"))
    assert np.abs(np.median(film[:12].reshape(-1, 2), axis=0) - TARGET).max() < 6
    assert np.abs(np.median(other[:12].reshape(-1, 2), axis=0) - TARGET).max() > 20
    assert np.abs(film[12:] - other[12:]).mean() < 0.5
    # Rerun: nothing to do; change the keyframe: that film alone is redone.
    assert cli("batch", archive, "-o", out, *options)[0] == 0
    assert all(i["skipped"] for i in json.loads(report.read_text())["items"])
    cv2.imwrite(str(key), cv2.cvtColor(recolored_rgb(decoded_rgb(two_shots)[4], np.float32([-30, 40])),
                                       cv2.COLOR_RGB2BGR))
    assert cli("batch", archive, "-o", out, *options)[0] == 0
    items = {Path(i["input"]).name: i for i in json.loads(report.read_text())["items"]}
    assert not items["film.mkv"]["skipped"] and items["other.mkv"]["skipped"]


def test_the_api_takes_keyframes_as_arrays(colorizer, two_shots, tmp_path):
    from vidcolor import colorize_video

    frames = decoded_rgb(two_shots)
    out = tmp_path / "api.mkv"
    summary = colorize_video(two_shots, out, colorizer=colorizer, codec="ffv1", quiet=True,
                             references={5: recolored_rgb(frames[5])})
    assert summary.provenance["settings"]["references"][0].startswith("5:")
    shot = ab_of(decoded_rgb(out))[:12].reshape(-1, 2)
    assert np.abs(np.median(shot, axis=0) - TARGET).max() < 6


def test_the_references_and_the_smoother_follow_the_motion_on_one_flow(colorizer, two_shots, tmp_path, monkeypatch):
    """With references the smoother takes the guide's steps: each pair of frames has its flow
    computed once, not once for each, and the colors are those of a smoother following on its own."""
    from vidcolor import colorize_video
    from vidcolor.temporal.flow import FlowEstimator
    from vidcolor.temporal.smoother import ChromaSmoother

    flows = []
    pair, push = FlowEstimator.pair, ChromaSmoother.push
    monkeypatch.setattr(FlowEstimator, "pair", lambda self, *a: flows.append(1) or pair(self, *a))
    frames = decoded_rgb(two_shots)
    run = dict(colorizer=colorizer, codec="ffv1", quiet=True, references={5: recolored_rgb(frames[5])})
    colorize_video(two_shots, tmp_path / "one.mkv", **run)
    assert len(flows) == len(frames) - 1
    monkeypatch.setattr(ChromaSmoother, "push", lambda self, L, ab, tag=None, step=None: push(self, L, ab, tag))
    flows.clear()
    colorize_video(two_shots, tmp_path / "own.mkv", **run)
    assert len(flows) == 2 * (len(frames) - 1)
    one, own = decoded_rgb(tmp_path / "one.mkv"), decoded_rgb(tmp_path / "own.mkv")
    assert len(one) == len(frames) and all(np.array_equal(a, b) for a, b in zip(one, own))


@pytest.mark.slow  # about 9 s
def test_references_smoothed_on_the_device_agree_with_the_cpu(cli, two_shots, tmp_path):
    """The smoother on the device (torch, on the CPU here) takes the guide's steps, judged on the CPU
    where the guide reads them, as it takes its own: within 0.5 ab units of OpenCV's smoother."""
    frames, refs = decoded_rgb(two_shots), tmp_path / "refs"
    refs.mkdir()
    cv2.imwrite(str(refs / "000003.png"), cv2.cvtColor(recolored_rgb(frames[3]), cv2.COLOR_RGB2BGR))
    outputs = {}
    for where in ("cpu", "device"):
        out = tmp_path / f"{where}.mkv"
        code, output = cli(two_shots, "-o", out, "--codec", "ffv1", "--references", refs, f"--smooth-on-{where}")
        assert code == 0, output
        outputs[where] = ab_of(decoded_rgb(out))
    assert len(outputs["cpu"]) == len(outputs["device"]) == len(frames)
    difference = np.abs(outputs["device"] - outputs["cpu"]).mean()
    assert 0 < difference < 0.5  # torch's smoother did run, and agrees
    assert np.abs(np.median(outputs["device"][:12].reshape(-1, 2), axis=0) - TARGET).max() < 6  # its shot follows


def grid_of_hints(frame: int, color=TARGET, w=160, h=96) -> list[dict]:
    rgb = lab.compose(np.full((1, 1), 60, np.float32), np.float32(color).reshape(1, 1, 2))[0, 0]
    return [{"frame": frame, "x": x, "y": y, "color": [int(c) for c in rgb], "radius": 8}
            for x in range(10, w, 30) for y in range(10, h, 30)]


def test_hints_on_one_frame_color_its_shot(cli, two_shots, tmp_path):
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps(grid_of_hints(2)))
    plain, hinted = tmp_path / "plain.mkv", tmp_path / "hinted.mkv"
    assert cli(two_shots, "-o", plain, "--codec", "ffv1")[0] == 0
    code, output = cli(two_shots, "-o", hinted, "--codec", "ffv1", "--hints", hints)
    assert code == 0, output
    before, after = ab_of(decoded_rgb(plain)), ab_of(decoded_rgb(hinted))
    wanted = lab.split(lab.compose(np.full((1, 1), 60, np.float32), TARGET.reshape(1, 1, 2)))[1][0, 0]
    gain = np.linalg.norm(np.median(before[:12].reshape(-1, 2), axis=0) - wanted) - \
        np.linalg.norm(np.median(after[:12].reshape(-1, 2), axis=0) - wanted)
    assert gain > 15  # the first shot moved well towards the hints' color
    assert np.abs(after[12:] - before[12:]).mean() < 0.5  # and the second did not


@pytest.mark.parametrize("content, words", [
    ("[{\"frame\": 2, \"x\": 10,", "not valid JSON"),
    (json.dumps([{"frame": 2, "x": 500, "y": 10, "color": "#ff0000"}]), "hint 1: (500, 10) is outside the 160x96 frame"),
    (json.dumps([{"frame": 2, "x": 5, "y": 10, "color": "red"}]), "hint 1: color must be \"#rrggbb\" or [r, g, b]"),
    (json.dumps([{"frame": 99, "x": 5, "y": 10, "color": "#ff0000"}]), "hint 1: frame 99 (0:04.125) is past the end"),
    (json.dumps([{"x": 5, "y": 10, "color": "#ff0000"}]), "hint 1: give its frame (a number from 0) or its time"),
], ids=["json", "outside", "color", "past-end", "no-frame"])
def test_bad_hints_fail_before_decoding_naming_the_file(cli, two_shots, tmp_path, content, words):
    hints = tmp_path / "h.json"
    hints.write_text(content)
    code, output = cli(two_shots, "-o", tmp_path / "out.mp4", "--hints", hints, quiet=False)
    lines = output.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"vidcolor: error: {hints}: "), output
    assert words in lines[0], output
    assert not (tmp_path / "out.mp4").exists()


def test_a_still_takes_hints(cli, tmp_path):
    gray = np.repeat(cv2.cvtColor(color_texture(96, 64, seed=2), cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    still, hints, out = tmp_path / "photo.png", tmp_path / "h.json", tmp_path / "photo_color.png"
    cv2.imwrite(str(still), gray)
    points = [{k: v for k, v in h.items() if k != "frame"} for h in grid_of_hints(0, w=96, h=64)]
    hints.write_text(json.dumps(points))
    plain = tmp_path / "plain.png"
    assert cli(still, "-o", plain)[0] == 0
    code, output = cli(still, "-o", out, "--hints", hints)
    assert code == 0, output
    def median_ab(path):
        return np.median(lab.split(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))[1].reshape(-1, 2), axis=0)
    assert np.linalg.norm(median_ab(out) - TARGET) < np.linalg.norm(median_ab(plain) - TARGET) - 15


def test_the_report_says_where_a_reference_is_needed(cli, two_shots, tmp_path):
    frames = decoded_rgb(two_shots)
    key = tmp_path / "000004.png"
    cv2.imwrite(str(key), cv2.cvtColor(recolored_rgb(frames[4]), cv2.COLOR_RGB2BGR))
    report = tmp_path / "r.json"
    code, output = cli(two_shots, "-o", tmp_path / "out.mp4", "--reference", f"{key}@0.1667",
                       "--report", report)
    assert code == 0, output
    refs = json.loads(report.read_text())["references"]
    first, second = refs["shots"]
    assert (first["first_frame"], first["frames"], second["first_frame"], second["frames"]) == (0, 12, 12, 12)
    assert first["references"] == [{"frame": 4, "time": pytest.approx(4 / 24, abs=1e-3), "kind": "keyframe"}]
    assert first["min_reach"] > 0.5 and second["mean_reach"] == 0 and second["references"] == []
    # The second shot has nothing to follow: each of its frames needs a reference, and only those.
    assert [f["frame"] for f in refs["needs_reference"]] == list(range(12, 24))


def test_a_film_with_references_resumes_in_segments_with_the_colors_of_one_piece(cli, two_shots, tmp_path,
                                                                                  monkeypatch):
    """Segments of 10 frames (0-9, 10-19, 20-23), no smoothing context: keyframe 3 is carried
    across the first edge (to frames 10 and 11 of its shot), keyframe 13 across the second, and
    frames 12-19 look forward to keyframe 22, in the segment after theirs. Interrupted after the
    first segment and resumed, the film is pixel for pixel what one uninterrupted piece gives.
    The segments run with the guide's flows computed ahead on 3 threads (as on a GPU), the whole
    film one at a time: what a segment saves for the next is the state of the frames guided."""
    import dataclasses

    import vidcolor.models.colorizer
    from test_resume import interrupt_after

    plan = vidcolor.models.colorizer.plan_threads

    frames, refs = decoded_rgb(two_shots), tmp_path / "refs"
    refs.mkdir()
    for n, color in ((3, TARGET), (13, TARGET), (22, np.float32([-30.0, 40.0]))):
        cv2.imwrite(str(refs / f"{n:06d}.png"), cv2.cvtColor(recolored_rgb(frames[n], color), cv2.COLOR_RGB2BGR))
    run = ("--codec", "ffv1", "--references", refs, "--smooth-strength", "0")
    whole, out = tmp_path / "whole.mkv", tmp_path / "out.mkv"
    code, output = cli(two_shots, "-o", whole, *run, quiet=False)
    assert code == 0 and "cannot resume" not in output, output

    monkeypatch.setattr(vidcolor.models.colorizer, "plan_threads",
                        lambda *a, **k: dataclasses.replace(plan(*a, **k), smooth_workers=3))
    with monkeypatch.context() as m:
        interrupt_after(m, 1)
        code, output = cli(two_shots, "-o", out, *run, "--segment-seconds", "0.4")
    assert code == 130 and "1 of 3 segments are kept" in output, output
    work = tmp_path / ".out.mkv.vidcolor"
    assert len(list(work.rglob("*.carried.npz"))) == 1  # what the second segment starts from
    code, output = cli(two_shots, "-o", out, *run, "--segment-seconds", "0.4", quiet=False)
    assert code == 0, output
    assert "resuming: 1 of 3 segments done" in output
    guided = ab_of(decoded_rgb(out))
    assert np.abs(np.median(guided[10:12].reshape(-1, 2), axis=0) - TARGET).max() < 6  # carried across
    assert all(np.array_equal(x, y) for x, y in zip(decoded_rgb(whole), decoded_rgb(out), strict=True))
    assert not work.exists()


def test_segments_carry_a_keyframe_with_no_context_and_none_ahead(cli, two_shots, tmp_path):
    """Without smoothing a segment decodes no frame past its own: what the next one starts from
    is saved at its end. Keyframe 3 reaches frames 10 and 11, in the second segment, as in one piece."""
    frames, refs = decoded_rgb(two_shots), tmp_path / "refs"
    refs.mkdir()
    cv2.imwrite(str(refs / "000003.png"), cv2.cvtColor(recolored_rgb(frames[3]), cv2.COLOR_RGB2BGR))
    run = ("--codec", "ffv1", "--references", refs, "--smooth-strength", "0")
    whole, out = tmp_path / "whole.mkv", tmp_path / "out.mkv"
    assert cli(two_shots, "-o", whole, *run)[0] == 0
    code, output = cli(two_shots, "-o", out, *run, "--segment-seconds", "0.4")
    assert code == 0, output
    guided = ab_of(decoded_rgb(out))
    assert np.abs(np.median(guided[10:12].reshape(-1, 2), axis=0) - TARGET).max() < 6
    assert all(np.array_equal(x, y) for x, y in zip(decoded_rgb(whole), decoded_rgb(out), strict=True))


@pytest.mark.slow  # 30 s on 2 cores: the smoothed variant of the segment tests above
def test_a_smoothed_film_with_references_in_segments_has_the_colors_of_one_piece(cli, two_shots, tmp_path,
                                                                                monkeypatch):
    """Smoothed, a segment decodes context on both sides, and its smoother follows the motion on the
    guide's steps, whose tracker the segment restores from the one before: pixel for pixel one piece."""
    from vidcolor.resume import resumable

    real, segments = resumable.colorize_segment, []
    monkeypatch.setattr(resumable, "colorize_segment", lambda *a, **k: segments.append(1) or real(*a, **k))
    frames, refs = decoded_rgb(two_shots), tmp_path / "refs"
    refs.mkdir()
    for n in (3, 13):
        cv2.imwrite(str(refs / f"{n:06d}.png"), cv2.cvtColor(recolored_rgb(frames[n]), cv2.COLOR_RGB2BGR))
    run = ("--codec", "ffv1", "--references", refs)
    whole, out = tmp_path / "whole.mkv", tmp_path / "out.mkv"
    assert cli(two_shots, "-o", whole, *run)[0] == 0
    assert not segments
    code, output = cli(two_shots, "-o", out, *run, "--segment-seconds", "0.4")
    assert code == 0, output
    assert len(segments) >= 2  # in pieces indeed (their edges fall where the shots and context allow)
    guided = ab_of(decoded_rgb(out))
    assert np.abs(np.median(guided[:12].reshape(-1, 2), axis=0) - TARGET).max() < 6  # the references hold
    assert all(np.array_equal(x, y) for x, y in zip(decoded_rgb(whole), decoded_rgb(out), strict=True))


@pytest.mark.slow  # about 15 s; the single-file command's segments carry references in the default run
def test_a_batch_colorizes_a_film_with_references_in_segments_carried_in_order(cli, two_shots, tmp_path):
    """On two workers, the segments of a film with references run one after another, each from
    what the one before saved; the film is pixel for pixel the single-file command's in one piece."""
    import shutil

    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    shutil.copy(two_shots, archive / "film.mkv")
    refs = archive / "film.refs"
    refs.mkdir()
    for n in (3, 13):
        cv2.imwrite(str(refs / f"{n:06d}.png"),
                    cv2.cvtColor(recolored_rgb(decoded_rgb(two_shots)[n]), cv2.COLOR_RGB2BGR))
    run = ("--codec", "ffv1", "--smooth-strength", "0")
    whole = tmp_path / "whole.mkv"
    assert cli(two_shots, "-o", whole, *run, "--references", refs)[0] == 0
    code, output = cli("batch", archive, "-o", out, *run, "--segment-seconds", "0.4", "--jobs", "2",
                       "--report", tmp_path / "r.json")
    assert code == 0, output
    item = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert item["segments"] == 3 and item["notes"] == [f"{archive / 'film.mkv'}: follows film.refs"]
    assert all(np.array_equal(x, y) for x, y in zip(decoded_rgb(whole), decoded_rgb(out / "film.mkv"), strict=True))


@pytest.mark.slow  # about 15 s
def test_where_the_references_stop_holding_is_reported_whole_or_in_segments(colorizer, two_shots, tmp_path):
    """A keyframe in the first shot alone: the second shot (frames 12-23) needs a reference; the
    same stretch is found by a run in one piece, in resumable segments, and by a batch."""
    from vidcolor import colorize_video
    from vidcolor.batch import run_batch

    frames = decoded_rgb(two_shots)
    refs = tmp_path / "refs"
    refs.mkdir()
    cv2.imwrite(str(refs / "000003.png"), cv2.cvtColor(recolored_rgb(frames[3]), cv2.COLOR_RGB2BGR))
    run = dict(colorizer=colorizer, references=[str(refs)], smooth_strength=0, codec="ffv1", quiet=True)
    whole = colorize_video(two_shots, tmp_path / "whole.mkv", **run)
    assert whole.needs_reference == [[pytest.approx(12 / 24), pytest.approx(23 / 24)]]
    parts = colorize_video(two_shots, tmp_path / "parts.mkv", segment_seconds=0.4, **run)
    assert parts.needs_reference == whole.needs_reference
    run.pop("colorizer")
    batch = run_batch([two_shots], tmp_path / "batch", weights=str(colorizer.weights_path), input_size=TEST_SIZE,
                      device="cpu", segment_seconds=0.4, **{k: v for k, v in run.items() if k != "references"},
                      references=str(refs))
    assert batch.items[0].state == "done" and batch.items[0].needs_reference == whole.needs_reference
