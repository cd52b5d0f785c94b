"""Every output says how it was made: vidcolor's version, the model and its weights' SHA-256, the
options that change pixels, the input's name and SHA-256; the run's time as creation_time."""
from __future__ import annotations

import hashlib
import json

import av
import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from media_factory import moving_gray, write_video

SOURCE_TIME = "1998-03-14T12:00:00.000000Z"  # a transfer date (MP4 counts from 1970 here)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tags(path) -> dict:
    with av.open(str(path)) as c:
        return dict(c.metadata)


def check_record(record: dict, src, weights, **settings) -> None:
    assert record["colorized_by"].startswith("vidcolor ")
    assert record["weights"] == weights.name and record["weights_sha256"] == sha256(weights)
    assert record["source"] == src.name and record["source_sha256"] == sha256(src)
    for key, value in settings.items():
        assert record["settings"][key] == value, (key, record["settings"])
    assert record["created"] != SOURCE_TIME


@pytest.mark.parametrize("name", ["out.mp4", "out.mov", "out.mkv"])
def test_a_video_carries_its_provenance_and_the_time_it_was_made(cli, tmp_path, tiny_weights, name):
    src = write_video(tmp_path / "newsreel.mp4", frames=8, metadata={"creation_time": SOURCE_TIME, "title": "News"})
    out, report = tmp_path / name, tmp_path / "q.json"
    code, output = cli(src, "-o", out, "--report", report)
    assert code == 0, output
    found = {k.lower(): v for k, v in tags(out).items()}
    record = json.loads(found["comment"])
    check_record(record, src, tiny_weights, input_size=64, smooth_strength=0.5)
    assert found["creation_time"] == record["created"]
    assert found["title"] == "News"  # the input's own tags stay
    if name.endswith(".mkv"):  # Matroska keeps any tag, and the input's time under another name
        assert found["vidcolor_weights_sha256"] == sha256(tiny_weights)
        assert found["source_creation_time"] == SOURCE_TIME
    assert json.loads(report.read_text())["provenance"] == record


def test_stills_carry_it_inside_where_the_format_holds_text_and_beside_where_not(cli, tmp_path, tiny_weights):
    scans = tmp_path / "scans"
    scans.mkdir()
    for ext in ("png", "jpg", "tif", "bmp"):
        cv2.imwrite(str(scans / f"plate.{ext}"), moving_gray(64, 48, 3))
    out = tmp_path / "color"
    code, output = cli(scans, "-o", out)
    assert code == 0, output
    with Image.open(out / "plate.png") as im:
        check_record(json.loads(im.text["vidcolor"]), scans / "plate.png", tiny_weights, input_size=64)
    with Image.open(out / "plate.jpg") as im:
        comment = im.info["comment"].decode()
    assert comment.startswith("vidcolor ")
    check_record(json.loads(comment[len("vidcolor "):]), scans / "plate.jpg", tiny_weights)
    with tifffile.TiffFile(out / "plate.tif") as tif:
        tags = tif.pages[0].tags
        assert tags[305].value.startswith("vidcolor ")
        check_record(json.loads(tags[65000].value), scans / "plate.tif", tiny_weights)
    check_record(json.loads((out / "plate.bmp.vidcolor.json").read_text()), scans / "plate.bmp", tiny_weights)
    assert sorted(p.name for p in out.iterdir()) == ["plate.bmp", "plate.bmp.vidcolor.json", "plate.jpg",
                                                     "plate.png", "plate.tif"]
    # The text is beside the pixels, not in them: every file decodes to the same picture as the others.
    png, jpg = cv2.imread(str(out / "plate.png")), cv2.imread(str(out / "plate.jpg"))
    assert png.shape == jpg.shape == (48, 64, 3) and np.array_equal(png, cv2.imread(str(out / "plate.bmp")))
