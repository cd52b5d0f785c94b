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


def test_a_16_bit_scan_stays_16_bit_with_its_dpi_icc_profile_and_exif(cli, tmp_path):
    """Restorers scan at 16 bits for grading room: the colorized PNG and TIFF keep all 16 bits, the
    scan's resolution, color profile and EXIF text (description, artist); the pixels are its own
    lightness, finer than 8 bits can say."""
    import tifffile
    from PIL import ImageCms

    base = moving_gray(96, 64, 3).astype(np.uint16) * 257
    gray16 = base + np.random.default_rng(0).integers(0, 250, base.shape).astype(np.uint16)  # below one 8-bit level
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[270], exif[315], exif[0x0112] = "Harbour, 1938", "J. Smith", 1
    cv2.imwrite(str(tmp_path / "scan16.png"), np.dstack([gray16] * 3))
    tifffile.imwrite(tmp_path / "scan16.tif", np.dstack([gray16] * 3), photometric="rgb", resolution=(600, 600),
                     resolutionunit="INCH")
    sources = {"png": tmp_path / "scan16.png", "tif": tmp_path / "scan16.tif"}
    jpeg = tmp_path / "print.jpg"
    Image.fromarray(moving_gray(96, 64, 3)).convert("RGB").save(jpeg, dpi=(600, 600), exif=exif.tobytes(),
                                                                icc_profile=icc, quality=95)
    for src, out in [(sources["png"], "c16.png"), (sources["tif"], "c16.tif")]:
        code, output = cli(src, "-o", tmp_path / out)
        assert code == 0, output
        colored = cv2.imread(str(tmp_path / out), cv2.IMREAD_UNCHANGED)
        assert colored.dtype == np.uint16 and colored.shape == (64, 96, 3)
        assert np.abs(colored[..., 0].astype(int) - colored[..., 2]).mean() > 2 * 257  # colored
        # The lightness is the scan's at 16 bits: closer to it than an 8-bit version of it can be.
        L_in = cv2.cvtColor(np.dstack([gray16] * 3).astype(np.float32) / 65535, cv2.COLOR_BGR2Lab)[..., 0]
        L_out = cv2.cvtColor(colored.astype(np.float32) / 65535, cv2.COLOR_BGR2Lab)[..., 0]
        L_8 = cv2.cvtColor((np.dstack([gray16] * 3) // 257).astype(np.float32) / 255, cv2.COLOR_BGR2Lab)[..., 0]
        assert np.abs(L_out - L_in).mean() < 0.5 * np.abs(L_8 - L_in).mean()
    with Image.open(tmp_path / "c16.tif") as im:  # a 600 dpi scan stays 600 dpi
        assert [round(float(d)) for d in im.info["dpi"]] == [600, 600]
    for out in ("print_c.jpg", "print_c.png", "print_c.tif"):
        code, output = cli(jpeg, "-o", tmp_path / out, quiet=False)
        assert code == 0 and "loses" not in output, output
        with Image.open(tmp_path / out) as im:
            assert [round(float(d)) for d in im.info["dpi"]] == [600, 600], out
            assert im.info["icc_profile"] == icc, out
            found = im.getexif()
            assert (found[270], found[315]) == ("Harbour, 1938", "J. Smith"), out
    code, output = cli(sources["png"], "-o", tmp_path / "c8.jpg", quiet=False)
    assert code == 0 and "loses its 16 bits a channel" in output
