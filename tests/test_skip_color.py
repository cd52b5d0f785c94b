"""--skip-color: shots already in color are left alone, black-and-white (toned too) colorized."""
import cv2
import numpy as np
import pytest

from media_factory import color_texture, decoded_rgb, moving_gray, translate, write_frames
from vidcolor.temporal.color_shots import COLOR_SCORE, RUN, ColorShots, chroma_score

W, H = 96, 64


def gray(i):
    return np.repeat(moving_gray(W, H, i)[:, :, None], 3, axis=2)


def sepia(rgb):
    """A toned print: the hue follows the density (deep brown shadows, near-white highlights)."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    toned = np.dstack([np.clip(1.07 * g + 0.03, 0, 1), 0.95 * g, 0.75 * g]) ** np.float32([0.9, 1.0, 1.2])
    return (255 * toned).round().astype(np.uint8)


def lightness(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[..., 0].astype(int)


def chroma(rgb):
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(float)
    return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128).mean())


def test_the_chroma_test_tells_color_from_gray_and_toned_prints():
    texture = color_texture(W, H, seed=3)
    assert chroma_score(texture) > 2 * COLOR_SCORE
    assert chroma_score(gray(5)) < 0.2 * COLOR_SCORE
    assert chroma_score(sepia(gray(5))) < 0.5 * COLOR_SCORE and chroma(sepia(gray(5))) > 5  # toned, not gray


def test_a_shot_changes_class_only_after_a_run_and_from_its_first_frame():
    classes = [False] * 20 + [True] * 30 + [False] * 3 + [True] * 10 + [False] * (RUN + 5)
    shots = ColorShots()
    out = [d for i, c in enumerate(classes) for d in shots.push(i, c)] + shots.flush()
    assert [i for i, _ in out] == list(range(len(classes)))
    decided = [c for _, c in out]
    # The three dark frames inside the color shot stay with it; the last shot starts on time.
    assert decided == [False] * 20 + [True] * 43 + [False] * (RUN + 5)
    assert shots.kept == 43


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """30 gray frames, 30 of a moving color picture, 30 sepia-toned: lossless."""
    texture = color_texture(W, H, seed=1)
    frames = [gray(i) for i in range(30)] + [translate(texture, 0.5 * i, 0) for i in range(30)] + \
        [sepia(gray(i)) for i in range(30)]
    return write_frames(tmp_path_factory.mktemp("skip") / "mixed.mkv", frames), frames


def test_color_shot_is_left_alone_and_the_rest_colorized(cli, mixed, tmp_path):
    src, frames = mixed
    out = tmp_path / "out.mkv"
    code, output = cli(src, "-o", out, "--skip-color", "--preset", "archive", quiet=False)
    assert code == 0, output
    assert "30 frame(s) of shots already in color left as they were" in output
    result = decoded_rgb(out)
    assert len(result) == 90
    diff = [int(np.abs(r.astype(int) - f).max()) for r, f in zip(result, frames)]
    assert max(diff[30:60]) <= 1  # the color shot: its own pixels, through 10-bit 4:4:4
    assert min(diff[:30] + diff[60:]) > 10  # gray and sepia: colorized by the network
    for r, f in zip(result[:30] + result[60:], frames[:30] + frames[60:]):
        assert np.abs(lightness(r) - lightness(f)).mean() < 1.0
    # By default the color shot goes through the network like the rest.
    code, output = cli(src, "-o", tmp_path / "all.mkv", "--preset", "archive")
    assert code == 0, output
    assert min(int(np.abs(r.astype(int) - f).max()) for r, f in zip(decoded_rgb(tmp_path / "all.mkv")[30:60],
                                                                      frames[30:60])) > 10


def test_stills_in_color_are_written_as_they_are(cli, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    texture = color_texture(W, H, seed=2)
    cv2.imwrite(str(folder / "color.png"), texture[..., ::-1])
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(gray(3), cv2.COLOR_RGB2GRAY))
    code, output = cli(folder, "-o", tmp_path / "out", "--skip-color")
    assert code == 0, output
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "color.png"))[..., ::-1], texture)
    colored = cv2.imread(str(tmp_path / "out" / "gray.png"))[..., ::-1]
    assert chroma(colored) > 5
