"""The shipped samples, and the README's first command on them."""
import hashlib
import re
from pathlib import Path

import av

from media_factory import frame_times, packets

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "samples" / "his_girl_friday_1940.mp4"


def test_every_sample_has_its_licence_and_checksum():
    readme = (ROOT / "samples" / "README.md").read_text()
    for f in sorted((ROOT / "samples").iterdir()):
        if f.name == "README.md":
            continue
        row = next((line for line in readme.splitlines() if f"`{f.name}`" in line), None)
        assert row is not None, f"{f.name} is not in samples/README.md"
        assert hashlib.sha256(f.read_bytes()).hexdigest() in row
        assert re.search(r"CC0|public domain|CC-BY", row)


def test_readme_first_command_colorizes_the_sample(cli, tmp_path):
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv") and "vidcolor samples/" in line)
    args = command.split("vidcolor ", 1)[1].split()
    assert args[0] == "samples/his_girl_friday_1940.mp4" and Path(ROOT / args[0]).is_file()
    out = tmp_path / "friday_color.mp4"
    code, output = cli(ROOT / args[0], "-o", out, "--duration", "1")
    assert code == 0, output
    assert frame_times(out) == [t for t in frame_times(CLIP) if t < 1]
    src_audio = [p for p in packets(CLIP)[0] if p[1] < 1]
    assert [p[0] for p in packets(out)[0]] == [p[0] for p in src_audio]


def test_sample_is_small_and_as_described():
    path = CLIP
    assert path.stat().st_size < 2_000_000
    with av.open(str(path)) as c:
        assert {s.type for s in c.streams} == {"video", "audio"}
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == (640, 480)
