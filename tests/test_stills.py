"""Still images and folders of stills."""
import cv2
import numpy as np
import pytest
from PIL import Image

from media_factory import moving_gray


def chroma(bgr):
    return float(np.abs(cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(int)[:, :, 1:] - 128).mean())


def test_photo_to_png(cli, tmp_path):
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), moving_gray(150, 100, 4))
    out = tmp_path / "photo_color.png"
    code, output = cli(photo, "-o", out)
    assert code == 0, output
    result = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert result.shape == (100, 150, 3)
    assert chroma(result) > 2.0
    gray_in = cv2.imread(str(photo), cv2.IMREAD_GRAYSCALE).astype(int)
    assert np.abs(cv2.cvtColor(result, cv2.COLOR_BGR2GRAY).astype(int) - gray_in).mean() < 6


def test_alpha_is_kept_in_png_and_dropped_with_a_warning_in_jpeg(cli, tmp_path):
    rgba = np.dstack([np.repeat(moving_gray(64, 40, 1)[:, :, None], 3, 2), np.linspace(0, 255, 64 * 40).reshape(40, 64).astype(np.uint8)])
    src = tmp_path / "logo.png"
    cv2.imwrite(str(src), rgba)
    code, output = cli(src, "-o", tmp_path / "logo_color.png")
    assert code == 0, output
    out = cv2.imread(str(tmp_path / "logo_color.png"), cv2.IMREAD_UNCHANGED)
    assert out.shape == (40, 64, 4) and np.array_equal(out[:, :, 3], rgba[:, :, 3])
    code, output = cli(src, "-o", tmp_path / "logo_color.jpg")
    assert code == 0 and "warning" in output and "transparency" in output


def test_format_only_pillow_reads(cli, tmp_path):
    src_pcx = tmp_path / "scan.pcx"
    Image.fromarray(moving_gray(60, 44, 2)).convert("RGB").save(src_pcx)
    code, output = cli(src_pcx, "-o", tmp_path / "scan.png")
    assert code == 0, output
    assert cv2.imread(str(tmp_path / "scan.png")).shape == (44, 60, 3)


def test_folder_of_stills(cli, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    sizes = [(64, 48), (90, 60), (40, 70)]
    for i, (w, h) in enumerate(sizes):
        cv2.imwrite(str(folder / f"scan_{i}.png"), moving_gray(w, h, i))
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "color"
    code, output = cli(folder, "-o", out)
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["scan_0.png", "scan_1.png", "scan_2.png"]
    for i, (w, h) in enumerate(sizes):
        img = cv2.imread(str(out / f"scan_{i}.png"))
        assert img.shape == (h, w, 3) and chroma(img) > 2.0
    code, output = cli(folder, "-o", out)
    assert code == 1 and "already exists" in output


def test_unreadable_image(cli, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)
    code, output = cli(bad, "-o", tmp_path / "o.png")
    assert code == 1 and "broken.jpg: not a readable image" in output
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("name", ["camera.png", "coins.png"])
def test_real_gray_photographs(cli, shared, tmp_path, name):
    src = shared / "media/images/gray/skimage" / name
    code, output = cli(src, "-o", tmp_path / "out.png")
    assert code == 0, output
    out = cv2.imread(str(tmp_path / "out.png"))
    assert out.shape[:2] == cv2.imread(str(src)).shape[:2] and chroma(out) > 1.0
