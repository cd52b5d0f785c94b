"""`vidcolor serve`'s API, in process (Starlette's client), on real jobs: generated films, the
tests' weights, worker processes that run the batch machinery. And what guards it: the token,
the Host allow-list, cross-site changes, paths outside the roots, uploads."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from conftest import TEST_SIZE  # noqa: E402
from media_factory import decoded_rgb, frame_times, packets, write_video  # noqa: E402

TOKEN = "test-token-0123456789abcdef"
BASE = "http://127.0.0.1:8765"
BEARER = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def root(tmp_path, tiny_weights):
    """A root folder with a film, the tests' weights (options may name only files under a root)."""
    root = tmp_path / "root"
    (root / "films").mkdir(parents=True)
    write_video(root / "films" / "film.mkv", frames=30, fps=25)
    shutil.copy(tiny_weights, root / "weights.pth")
    return root


def options(root: Path, **more) -> dict:
    return {"weights": str(root / "weights.pth"), "input_size": TEST_SIZE, "device": "cpu", "codec": "ffv1", **more}


def make_client(root: Path, output: Path, concurrent: int = 1, **config) -> TestClient:
    from vidcolor.web.app import create_app
    from vidcolor.web.config import ServeConfig

    cfg = ServeConfig(roots=(root.resolve(),), output=output, token=TOKEN, port=8765, concurrent=concurrent, **config)
    return TestClient(create_app(cfg), base_url=BASE, headers=BEARER)


def wait_for(client: TestClient, job_id: str, states, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"job still {job['state']}: {job}"
        time.sleep(0.2)


def test_a_job_goes_from_queued_to_done_with_the_clis_pixels_and_times(root, tmp_path, cli):
    film = root / "films" / "film.mkv"
    with make_client(root, tmp_path / "out") as client:
        made = client.post("/api/jobs", json={"input": str(film), "options": options(root)})
        assert made.status_code == 201, made.text
        job = made.json()
        assert job["state"] in ("queued", "running") and job["name"] == "film.mkv"
        with client.stream("GET", "/api/events") as events:  # the queue as it is, then its changes
            lines = events.iter_lines()
            assert next(lines) == "event: jobs"
            assert json.loads(next(lines)[len("data: "):])[0]["id"] == job["id"]
        done = wait_for(client, job["id"], ("done", "failed"))
        assert done["state"] == "done", done["error"]
        assert done["frames_done"] == done["frames_total"] == 30 and done["error"] is None
        assert client.get("/api/jobs").json()[0]["state"] == "done"

        result = client.get(done["result_url"])
        assert result.status_code == 200 and result.headers["content-type"] == "video/x-matroska"
        ranged = client.get(done["result_url"], headers={"range": "bytes=100-199"})
        assert ranged.status_code == 206 and ranged.content == result.content[100:200]
        frame = client.get(f"/api/jobs/{job['id']}/frame?which=after&t=0.5")
        assert frame.status_code == 200 and frame.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert client.get(f"/api/jobs/{job['id']}/quality").json() is None
        measured = client.post(f"/api/jobs/{job['id']}/quality")
        assert measured.status_code == 201, measured.text
        quality = measured.json()
        assert quality["frames"] == 30 and quality["metrics"]["colorized"]["e_warp"] > 0
        assert client.get(f"/api/jobs/{job['id']}/quality").json() == quality
        # FFV1 in Matroska plays in no browser: the page gets an H.264 proxy of each film.
        for which in ("before", "after"):
            shown = client.get(f"/api/jobs/{job['id']}/video?which={which}")
            assert shown.status_code == 200 and shown.headers["content-type"] == "video/mp4"
            proxy = tmp_path / f"{which}.mp4"
            proxy.write_bytes(shown.content)
            with av.open(str(proxy)) as c:
                assert c.streams.video[0].codec_context.name == "h264"
            assert len(frame_times(proxy)) == 30

    by_cli = tmp_path / "cli.mkv"
    code, output = cli(film, "-o", by_cli, "--codec", "ffv1")
    assert code == 0, output
    served = Path(done["output"])
    assert frame_times(served) == frame_times(by_cli)
    assert all(np.array_equal(a, b) for a, b in zip(decoded_rgb(served), decoded_rgb(by_cli), strict=True))
    assert packets(served, "audio") == packets(film, "audio")


def test_cancel_and_retry_resume_the_same_job(root, tmp_path):
    """A film of 4 segments: cancelled while it runs, retried, and resumed from its finished
    segments. (A server killed mid-job, then restarted: test_web_faults.)"""
    film = root / "films" / "long.mkv"
    write_video(film, frames=100, fps=25)
    opts = options(root, segment_seconds=1)
    with make_client(root, tmp_path / "out") as client:
        job = client.post("/api/jobs", json={"input": str(film), "options": opts}).json()
        deadline = time.monotonic() + 240
        while client.get(f"/api/jobs/{job['id']}").json()["frames_done"] < 30:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        cancelled = client.post(f"/api/jobs/{job['id']}/cancel").json()
        assert cancelled.get("state") == "cancelled", cancelled
        assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 409
        time.sleep(1)
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "cancelled"
        assert client.post(f"/api/jobs/{job['id']}/retry").json()["state"] in ("queued", "running")
        done = wait_for(client, job["id"], ("done", "failed"))
        assert done["state"] == "done", done["error"]
        item = client.get(f"/api/jobs/{job['id']}/report").json()["items"][0]
        assert item["segments"] == 4 and item["segments_resumed"] >= 1 and item["frames"] == 100
    assert len(frame_times(Path(done["output"]))) == 100


def test_two_jobs_at_once_a_failing_one_and_the_queues_order(root, tmp_path):
    films = root / "films"
    write_video(films / "second.mp4", frames=12, fps=25)
    (films / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a film")
    with make_client(root, tmp_path / "out", concurrent=2) as client:
        ids = [client.post("/api/jobs", json={"input": str(films / name), "options": options(root)}).json()["id"]
               for name in ("film.mkv", "second.mp4", "broken.mp4")]
        listed = [j["id"] for j in client.get("/api/jobs").json()]
        assert listed == ids
        moved = client.post(f"/api/jobs/{ids[2]}/move", json={"to": 0})
        assert [j["id"] for j in moved.json()] == [ids[2], ids[0], ids[1]]
        jobs = [wait_for(client, i, ("done", "failed")) for i in ids]
        assert [j["state"] for j in jobs] == ["done", "done", "failed"]
        error = jobs[2]["error"]
        assert str(films / "broken.mp4") in error and "\n" not in error and "Traceback" not in error
        started = sorted((j["started"], j["finished"]) for j in jobs[:2])
        assert started[1][0] < started[0][1]  # the two films ran at the same time
        import io
        import zipfile

        bundle = client.get("/api/results.zip")
        assert bundle.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
            assert sorted(z.namelist()) == sorted(f"{j['id']}-{Path(j['output']).name}" for j in jobs[:2])
            assert all(z.read(f"{j['id']}-{Path(j['output']).name}") == Path(j["output"]).read_bytes()
                       for j in jobs[:2])
        assert client.delete(f"/api/jobs/{ids[2]}").json() == {"id": ids[2], "removed": True}
        assert [j["id"] for j in client.get("/api/jobs").json()] == ids[:2]


def test_previews_colorize_a_frame_or_each_shots_first_with_the_settings_given(root, tmp_path):
    import cv2

    from media_factory import color_texture, translate, write_frames

    a, b = color_texture(96, 64, seed=4), color_texture(96, 64, seed=5)
    b = (255 * (b / 255.0) ** 2.5).astype(np.uint8)
    shots = write_frames(root / "films" / "shots.mp4", [translate(a, i, 0) for i in range(14)] +
                         [translate(b, 0, 0.5 * i) for i in range(14)])
    with make_client(root, tmp_path / "out") as client:
        made = client.post("/api/previews", json={"input": str(root / "films" / "film.mkv"), "time": 0.5,
                                                  "options": options(root)})
        assert made.status_code == 201, made.text
        frames = made.json()["frames"]
        assert [f["time"] for f in frames] == [0.5]
        before, after = (client.get(frames[0][k]) for k in ("before", "after"))
        assert before.headers["content-type"] == after.headers["content-type"] == "image/png"
        gray, color = (cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR) for r in (before, after))
        assert gray.shape == color.shape == (64, 96, 3)
        assert np.abs(gray.astype(int) - gray[..., :1]).max() == 0  # the frame as it is: gray
        assert np.abs(color.astype(int) - color[..., :1]).max() > 5  # colorized

        each = client.post("/api/previews", json={"input": str(shots), "shots": True, "options": options(root)})
        assert each.status_code == 201, each.text
        times = [f["time"] for f in each.json()["frames"]]
        assert len(times) == 2 and times[0] < 14 / 24 <= times[1]  # one frame of each shot
        # A few seconds, smoothed as the run will be, beside the same seconds as they are.
        clip = client.post("/api/previews", json={"input": str(root / "films" / "film.mkv"), "time": 0.2,
                                                  "seconds": 0.6, "options": options(root, smooth_strength=0.8)})
        assert clip.status_code == 201, clip.text
        films = []
        for which in ("before", "after"):
            got = client.get(clip.json()["clip"][which])
            assert got.headers["content-type"] == "video/mp4"
            films.append(tmp_path / f"clip-{which}.mp4")
            films[-1].write_bytes(got.content)
            with av.open(str(films[-1])) as c:
                assert c.streams.video[0].codec_context.name == "h264"
        assert len(frame_times(films[0])) == len(frame_times(films[1])) in (14, 15)  # 0.6 s at 25 frames a second
        too_long = client.post("/api/previews", json={"input": str(root / "films" / "film.mkv"), "seconds": 300})
        assert too_long.status_code == 400 and "between 0 and 30" in too_long.json()["error"]
        bad = client.post("/api/previews", json={"input": str(root / "films" / "film.mkv"), "options": {"bogus": 1}})
        assert bad.status_code == 400 and "unknown option(s): bogus" in bad.json()["error"]
        assert client.get(f"/api/previews/{made.json()['id']}/..%2F..%2Fqueue.png").status_code == 404


# -- security ---------------------------------------------------------------------------------------
@pytest.fixture
def guarded(root, tmp_path):
    with make_client(root, tmp_path / "out", max_upload=1000) as client:
        yield client


def test_every_request_needs_the_token(guarded):
    anonymous = {"authorization": ""}
    assert guarded.get("/api/jobs", headers=anonymous).status_code == 401
    assert guarded.get("/", headers=anonymous).status_code == 401
    assert guarded.get("/api/jobs", headers={"authorization": "Bearer wrong-token-0000000000000"}).status_code == 401
    assert guarded.get("/?token=nope", headers=anonymous).status_code == 401
    # The token URL sets an HttpOnly, SameSite=Strict cookie and leads to the page without the token.
    visit = guarded.get(f"/?token={TOKEN}", headers=anonymous, follow_redirects=False)
    assert visit.status_code == 303 and visit.headers["location"] == "/"
    cookie = visit.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    page = guarded.get("/", headers={**anonymous, "cookie": f"vidcolor_token_8765={TOKEN}"})
    assert page.status_code == 200 and "<title>vidcolor</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert guarded.get("/docs").status_code == 404 and guarded.get("/api").status_code == 404


def test_a_foreign_host_and_a_cross_site_change_are_refused(guarded, root):
    assert guarded.get("/api/jobs", headers={"host": "evil.example:8765"}).status_code == 400
    cookie = {"authorization": "", "cookie": f"vidcolor_token_8765={TOKEN}"}
    job = {"input": str(root / "films" / "film.mkv")}
    cross = guarded.post("/api/jobs", json=job, headers={**cookie, "origin": "http://evil.example"})
    assert cross.status_code == 403 and "cross-site" in cross.json()["error"]
    assert guarded.post("/api/jobs", json=job, headers={**cookie, "sec-fetch-site": "cross-site"}).status_code == 403
    assert guarded.post("/api/jobs", json=job, headers=cookie).status_code == 403  # no origin at all
    assert guarded.get("/api/jobs").json() == []
    assert "access-control-allow-origin" not in guarded.get("/api/jobs", headers={"origin": "http://evil.example"}).headers


def test_nothing_outside_the_roots(guarded, root, tmp_path):
    secret = tmp_path / "secret.mkv"
    write_video(secret, frames=2)
    (root / "films" / "link.mkv").symlink_to(secret)
    (root / "away").symlink_to(tmp_path)
    for path in (str(root / ".." / "secret.mkv"), str(secret), "/etc/passwd", str(root / "films" / "link.mkv")):
        refused = guarded.post("/api/jobs", json={"input": path})
        assert refused.status_code == 403, (path, refused.text)
    assert guarded.post("/api/jobs", json={"input": "films/film.mkv"}).status_code == 400
    assert guarded.get(f"/api/files?path={root / 'away'}").status_code == 403
    listed = [e["name"] for e in guarded.get(f"/api/files?path={root / 'films'}").json()["entries"]]
    assert listed == ["film.mkv"]  # the link out of the root is not offered
    weights = guarded.post("/api/jobs", json={"input": str(root / "films" / "film.mkv"),
                                               "options": {"weights": str(secret)}})
    assert weights.status_code == 403
    assert guarded.get("/api/jobs/nope/result").status_code == 404
    assert guarded.get("/static/../app.py").status_code == 404
    assert guarded.get("/api/jobs").json() == []


def test_uploads_are_counted_refused_past_the_limit_and_never_served_as_html(guarded, tmp_path):
    big = guarded.post("/api/uploads?name=big.mp4", content=b"x" * 1001)
    assert big.status_code == 413 and "limit" in big.json()["error"]

    def chunks():  # no length announced: counted as it streams
        for _ in range(11):
            yield b"y" * 100

    streamed = guarded.post("/api/uploads?name=big.mp4", content=chunks())
    assert streamed.status_code == 413
    uploads = tmp_path / "out" / ".vidcolor-serve" / "uploads"
    assert not any(uploads.rglob("*")) if uploads.exists() else True  # partial uploads removed

    page = b"<html><script>alert(1)</script></html>"
    sent = guarded.post("/api/uploads?name=../../evil.html", content=page)
    assert sent.status_code == 201, sent.text
    upload = sent.json()
    assert upload["name"] == "evil.html" and upload["size"] == len(page)
    stored = [p for p in uploads.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == ["upload.bin"] and stored[0].read_bytes() == page
    made = guarded.post("/api/jobs", json={"upload": upload["id"]})
    assert made.status_code == 201, made.text
    job = made.json()
    served = guarded.get(f"/api/jobs/{job['id']}/input")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"
    failed = wait_for(guarded, job["id"], ("failed", "done"), timeout=120)
    assert failed["state"] == "failed" and "\n" not in failed["error"]


def test_bad_requests_get_a_clear_status_and_message(guarded, root):
    film = str(root / "films" / "film.mkv")
    cases = [
        (guarded.post("/api/jobs", content=b"{not json"), 400, "not JSON"),
        (guarded.post("/api/jobs", json=[1, 2]), 400, "JSON object"),
        (guarded.post("/api/jobs", json={}), 400, '"input"'),
        (guarded.post("/api/jobs", json={"input": film, "options": {"colour": "red"}}), 400, "unknown option(s): colour"),
        (guarded.post("/api/jobs", json={"input": film, "options": {"model": ["a"]}}), 400, "option model"),
        (guarded.post("/api/jobs", json={"input": str(root / "weights.pth")}), 400, "not a video or image"),
        (guarded.post("/api/jobs", json={"upload": "nope"}), 404, "no upload"),
        (guarded.get("/api/jobs/nope"), 404, "no job"),
        (guarded.post("/api/jobs/nope/retry"), 404, "no job"),
    ]
    for response, status, words in cases:
        assert response.status_code == status and words in response.json()["error"], response.text


def test_serve_refuses_a_short_token_and_warns_off_loopback(tmp_path):
    from click.testing import CliRunner

    from vidcolor.cli import main

    result = CliRunner().invoke(main, ["serve", "--token", "short", "--output", str(tmp_path)])
    assert result.exit_code == 1 and "--token must be at least 16 characters" in result.output


def test_steer_a_jobs_colors_with_a_corrected_keyframe_and_color_points(root, tmp_path):
    """The restorer's loop through the API: keyframes of a finished job, one corrected and sent
    back, color points on the other shot; the job runs again and both shots follow."""
    import cv2

    from media_factory import color_texture, translate, write_frames
    from vidcolor import lab

    a, b = color_texture(160, 96, seed=4), color_texture(160, 96, seed=5)
    b = (255 * (b / 255.0) ** 2.5).astype(np.uint8)
    frames = [translate(a, i, 0) for i in range(12)] + [translate(b, 0, 0.5 * i) for i in range(12)]
    film = write_frames(root / "films" / "shots.mp4",
                        [np.repeat(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2) for f in frames])
    target = np.float32([55.0, 35.0])
    with make_client(root, tmp_path / "out") as client:
        job = client.post("/api/jobs", json={"input": str(film), "options": options(root)}).json()
        first = wait_for(client, job["id"], ("done", "failed"))
        assert first["state"] == "done", first["error"]
        plain = np.stack([lab.split(f)[1] for f in decoded_rgb(Path(first["output"]))])

        made = client.post(f"/api/jobs/{job['id']}/keyframes", json={})
        assert made.status_code == 201, made.text
        keys = made.json()
        assert len(keys) == 2 and keys[1]["frame"] >= 12 and not any(k["corrected"] for k in keys)
        png = client.get(keys[0]["url"]).content
        rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        L, _ = lab.split(rgb)
        fixed = lab.compose(L, np.broadcast_to(target, L.shape + (2,)).astype(np.float32))
        sent = client.put(keys[0]["url"], content=cv2.imencode(".png", cv2.cvtColor(fixed, cv2.COLOR_RGB2BGR))[1].tobytes())
        assert sent.status_code == 200, sent.text
        assert [k["corrected"] for k in client.get(f"/api/jobs/{job['id']}/keyframes").json()] == [True, False]
        wrong = client.put(keys[0]["url"], content=cv2.imencode(".png", np.zeros((50, 50, 3), np.uint8))[1].tobytes())
        assert wrong.status_code == 422 and "aspect ratio" in wrong.json()["error"]
        assert client.put(f"/api/jobs/{job['id']}/keyframes/..%2Fx.png", content=b"x").status_code in (404, 422)
        points = [{"frame": 18, "x": 80, "y": 48, "color": "#2f8a3a", "radius": 60}]
        assert client.put(f"/api/jobs/{job['id']}/hints", json=points).json() == points
        bad = client.put(f"/api/jobs/{job['id']}/hints", json=[{"frame": 999, "x": 1, "y": 1, "color": "#fff"}])
        assert bad.status_code == 422 and "past the end of the film" in bad.json()["error"]
        assert client.get(f"/api/jobs/{job['id']}/hints").json() == points
        again = client.post(f"/api/jobs/{job['id']}/keyframes", json={})
        assert again.status_code == 409 and "overwrite" in again.json()["error"]
        # A small file that unpacks into far more pixels than a 160x96 film can use: refused unread.
        bomb = cv2.imencode(".png", np.zeros((1500, 2250, 3), np.uint8))[1].tobytes()
        assert len(bomb) < 50_000
        refused = client.put(keys[1]["url"], content=bomb)
        assert refused.status_code == 422 and "larger than the film's frames" in refused.json()["error"]
        server = client.app.state.server
        server.store.update(job["id"], state="running")  # as the job's worker reads its keyframes
        busy = client.post(f"/api/jobs/{job['id']}/keyframes", json={"overwrite": True})
        assert busy.status_code == 409 and "running" in busy.json()["error"]
        server.store.update(job["id"], state="done")

        assert client.post(f"/api/jobs/{job['id']}/retry").status_code == 200
        second = wait_for(client, job["id"], ("done", "failed"))
        assert second["state"] == "done", second["error"]
        # Where the references stop holding, from the run's report, on the steadiness chart.
        runs = client.get(f"/api/jobs/{job['id']}/report").json()["items"][0]["needs_reference"]
        chart = client.post(f"/api/jobs/{job['id']}/quality").json()["needs_reference"]
        assert [[r["first"], r["last"]] for r in chart] == runs
        assert all(0 <= r["first_frame"] <= r["last_frame"] < 24 for r in chart)
        assert not any(r["first_frame"] < 12 for r in chart)  # the corrected keyframe holds its shot
    guided = np.stack([lab.split(f)[1] for f in decoded_rgb(Path(second["output"]))])
    assert np.abs(np.median(guided[:12].reshape(-1, 2), axis=0) - target).max() < 6  # the corrected shot
    assert np.abs(np.median(plain[:12].reshape(-1, 2), axis=0) - target).max() > 20
    assert np.abs(guided[12:] - plain[12:]).mean() > 3  # the hinted shot moved too


def test_untrusted_numbers_sizes_and_images_are_refused_cheaply(guarded, root, tmp_path):
    import struct
    import zlib

    film = str(root / "films" / "film.mkv")
    for bad in ("nan", "inf", "-1"):
        refused = guarded.post("/api/previews", json={"input": film, "time": bad})
        assert refused.status_code == 400 and '"time" must be a number of seconds' in refused.json()["error"]
    assert guarded.post("/api/previews", json={"input": film, "seconds": "inf"}).status_code == 400
    huge = guarded.post("/api/jobs", content=b"[" + b"0," * (3 * 2**20) + b"0]")
    assert huge.status_code == 413 and "over" in huge.json()["error"]

    # A keyframe whose header announces 20000x20000 pixels is refused before it is decoded.
    from vidcolor.errors import VidcolorError
    from vidcolor.web import steer

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)) + \
        chunk(b"IEND", b"")
    folder = tmp_path / "job"
    (folder / "keyframes").mkdir(parents=True)
    (folder / "keyframes" / "000001.png").write_bytes(b"")
    with pytest.raises(VidcolorError, match="far larger than any frame of a film"):
        steer.save_keyframe(folder, "000001.png", bomb, (64, 96))
    nine_k = bomb.replace(struct.pack(">II", 20000, 20000), struct.pack(">II", 12000, 9000))
    nine_k = nine_k[:8] + chunk(b"IHDR", nine_k[16:29]) + nine_k[33:]
    with pytest.raises(VidcolorError, match="12000x9000 is far larger than the film's frames"):
        steer.save_keyframe(folder, "000001.png", nine_k, (64, 96))
