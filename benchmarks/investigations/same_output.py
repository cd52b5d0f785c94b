"""Does a change leave the output as it was? Printed digests, to compare between two checkouts.

Issue 33 reshaped the package (options, stages, resuming) and promised unchanged output. This
colorizes the sample film every way whose code moved, with seeded test weights (no download):
an FFV1 archive in segments, an H.264 part, a batch, a web job, hints with a report, keyframes in
segments and without smoothing, skip_color; then prints, for each output, its packet count, a
SHA-256 of every packet's bytes and one of their timestamps (provenance tags hold the time of the
run, so whole files always differ). Run it in each checkout and diff the two listings:

    python benchmarks/investigations/same_output.py /tmp/before   # in the old checkout
    python benchmarks/investigations/same_output.py /tmp/after    # in the new one
    diff /tmp/before/digests.txt /tmp/after/digests.txt

About 4 minutes on 2 cores.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))


def colorize_every_way(out: Path, weights: Path) -> None:
    import av
    import cv2
    import numpy as np
    from starlette.testclient import TestClient

    from vidcolor import colorize_video
    from vidcolor.batch import run_batch
    from vidcolor.web.app import create_app
    from vidcolor.web.config import ServeConfig

    sample = ROOT / "samples/his_girl_friday_1940.mp4"
    net = dict(weights=str(weights), input_size=64, device="cpu", quiet=True)
    colorize_video(sample, out / "archive.mkv", preset="archive", duration=3, segment_seconds=1, **net)
    colorize_video(sample, out / "web.mp4", start=1, duration=2, **net)
    colorize_video(sample, out / "halves.mkv", codec="ffv1", duration=2, segment_seconds=0.5, **net)
    (out / "in").mkdir()
    shutil.copy(sample, out / "in" / "a.mp4")
    run_batch([str(out / "in")], out / "batch", quiet=True, jobs=1, segment_seconds=1, codec="ffv1", duration=3,
              **{k: v for k, v in net.items() if k != "quiet"})
    hints = out / "hints.json"
    hints.write_text(json.dumps([{"frame": 10, "x": 100, "y": 100, "color": "#2f5a2a", "radius": 20},
                                 {"frame": 50, "points": [[200, 150], [300, 200]], "color": "#aa3322", "radius": 8}]))
    colorize_video(sample, out / "hints.mkv", codec="ffv1", duration=3, segment_seconds=1, hints=str(hints), **net)
    colorize_video(sample, out / "hints_report.mkv", codec="ffv1", duration=3, segment_seconds=None, hints=str(hints),
                   report=out / "report.json", **net)
    keys = out / "keys"
    keys.mkdir()
    with av.open(str(sample)) as c:
        rgb = next(f for i, f in enumerate(c.decode(video=0)) if i == 40).to_ndarray(format="rgb24")
    rgb[..., 0] = np.clip(rgb[..., 0].astype(int) + 60, 0, 255)
    cv2.imwrite(str(keys / "000040.png"), rgb[..., ::-1])
    colorize_video(sample, out / "keys.mkv", codec="ffv1", duration=3, segment_seconds=1, references=[str(keys)], **net)
    colorize_video(sample, out / "keys_unsmoothed.mkv", codec="ffv1", duration=2, smooth_strength=0,
                   references=[str(keys)], **net)
    colorize_video(sample, out / "skip_color.mkv", codec="ffv1", duration=2, skip_color=True, **net)
    web = out / "webroot"
    web.mkdir()
    shutil.copy(sample, web / "film.mp4")
    shutil.copy(weights, web / "w.pth")
    token = "t" * 32
    config = ServeConfig(roots=(web.resolve(),), output=out / "webout", token=token, port=8765, concurrent=1)
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765",
                    headers={"authorization": f"Bearer {token}"}) as client:
        job = client.post("/api/jobs", json={"input": str(web / "film.mp4"), "options": {
            "weights": str(web / "w.pth"), "input_size": 64, "device": "cpu", "codec": "ffv1", "duration": 2}}).json()
        while (job := client.get(f"/api/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
            time.sleep(0.3)
        assert job["state"] == "done", job
        shutil.copy(job["output"], out / "web_job.mkv")


def digests(out: Path) -> list[str]:
    import av

    lines = []
    for path in sorted(out.rglob("*")):
        if path.suffix not in (".mkv", ".mp4") or {"in", "webroot", "webout"} & set(path.relative_to(out).parts):
            continue
        packets, stamps = hashlib.sha256(), []
        with av.open(str(path)) as c:
            for packet in c.demux():
                if packet.size:
                    packets.update(bytes(packet))
                    stamps.append((packet.stream.index, packet.pts))
        lines.append(f"{path.relative_to(out)} {len(stamps)} {packets.hexdigest()[:16]} "
                     f"{hashlib.sha256(str(stamps).encode()).hexdigest()[:12]}")
    report = json.loads((out / "report.json").read_text())
    lines.append("report " + hashlib.sha256(json.dumps(report["metrics"], sort_keys=True).encode()).hexdigest()[:16])
    return lines


def main() -> None:
    import torch

    from ddcolor_weights import build_state_dict

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "output/same_output")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    weights = out / "tiny.pth"
    torch.save({"params": build_state_dict(seed=7)}, weights)
    colorize_every_way(out, weights)
    lines = digests(out)
    (out / "digests.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
