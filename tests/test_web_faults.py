"""`vidcolor serve` against an attacker and bad luck: numbers JSON cannot carry, requests that
ask too much, paths probed outside the roots, the server and its workers killed with SIGKILL
(a real server in a subprocess), a restart that must resume the job."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from media_factory import frame_times, write_video  # noqa: E402
from test_web import BASE, BEARER, TOKEN, make_client, options, root, wait_for  # noqa: E402,F401

JSON = {"content-type": "application/json"}


@pytest.fixture
def client(root, tmp_path):
    with make_client(root, tmp_path / "out") as client:
        yield client


@pytest.fixture
def paused(root, tmp_path):
    """A server whose queue runs nothing (no job slots): its jobs stay queued, cheaply."""
    from vidcolor.web.app import create_app
    from vidcolor.web.config import ServeConfig

    config = ServeConfig(roots=(root.resolve(),), output=tmp_path / "out", token=TOKEN, port=8765, concurrent=0)
    with TestClient(create_app(config), base_url=BASE, headers=BEARER, raise_server_exceptions=False) as client:
        yield client


def film_of(root: Path) -> str:
    return str(root / "films" / "film.mkv")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_cannot_carry_is_refused_and_never_stored(client, root, number):
    body = f'{{"input": "{film_of(root)}", "options": {{"start": {number}}}}}'.encode()
    refused = client.post("/api/jobs", content=body, headers=JSON)
    assert refused.status_code == 400 and number in refused.json()["error"]
    assert client.get("/api/jobs").json() == []
    with client.stream("GET", "/api/events") as events:
        lines = events.iter_lines()
        assert next(lines) == "event: jobs" and json.loads(next(lines)[len("data: "):]) == []


def test_requests_that_ask_too_much_are_4xx_not_500(paused, root):
    client, film = paused, film_of(root)
    nested = client.post("/api/jobs", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    assert nested.status_code == 400 and "nested" in nested.json()["error"]
    digits = client.post("/api/jobs", content=b'{"input": 1' + b"0" * 5000 + b"}", headers=JSON)
    assert digits.status_code == 400
    for bad in ({"start": 1e308}, {"duration": "99999999:00:00"}, {"input_size": 100_000}, {"workers": 1000},
                {"batch_size": 0}, {"input_size": True}, {"start": "soon"}, {"start": "nan"}):
        made = client.post("/api/jobs", json={"input": film, "options": {**options(root), **bad}})
        assert made.status_code == 400, (bad, made.text)
        assert next(iter(bad)) in made.json()["error"]
    assert client.post("/api/previews", json={"input": film, "time": 1e300}).status_code == 400
    seg = client.post("/api/previews", json={"input": film, "seconds": 1, "options": {"segment_seconds": 5}})
    assert seg.status_code == 400 and "segment_seconds" in seg.json()["error"]
    assert client.get("/api/jobs").json() == []

    job = client.post("/api/jobs", json={"input": film, "options": options(root)}).json()
    assert client.get(f"/api/jobs/{job['id']}/frame?t=1e300").status_code == 400
    assert client.get(f"/api/jobs/{job['id']}/frame?t=nan").status_code == 400
    hints = f"/api/jobs/{job['id']}/hints"
    nan = client.put(hints, content=b'[{"time": NaN, "x": 0.5, "y": 0.5, "color": "#ff0000"}]', headers=JSON)
    assert nan.status_code == 400
    for time_ in (1e308, "nan"):
        far = client.put(hints, json=[{"time": time_, "x": 0.5, "y": 0.5, "color": "#ff0000"}])
        assert far.status_code == 422, far.text
    assert client.get(hints).json() == []


def test_a_stored_row_with_nan_breaks_no_listing_and_fails_clearly(root, tmp_path):
    """A queue written before such numbers were refused: its row is shown, and fails when run."""
    out = tmp_path / "out"
    with make_client(root, out):
        pass
    db = sqlite3.connect(out / ".vidcolor-serve" / "queue.sqlite")
    db.execute("INSERT INTO jobs (id, position, input, name, options, state, created) VALUES "
               "('0123456789ab', 1, ?, 'film.mkv', '{\"start\": NaN}', 'queued', 0)", (film_of(root),))
    db.commit()
    db.close()
    with make_client(root, out) as client:
        job = wait_for(client, "0123456789ab", ("failed", "done"))
        assert job["state"] == "failed" and "not finite" in job["error"]
        assert job["options"] == {"start": None}
        assert client.get("/api/jobs").status_code == 200


def test_the_guards_small_promises(client, root, tmp_path):
    anonymous = {"authorization": ""}
    for method in ("POST", "PUT", "DELETE"):
        assert client.request(method, "/?token=x", headers=anonymous).status_code == 401
    visit = client.get(f"/?token={TOKEN}", headers=anonymous, follow_redirects=False)
    assert visit.status_code == 303 and visit.headers["cache-control"] == "no-store"
    assert visit.headers["set-cookie"].startswith("vidcolor_token_8765=")  # two servers, two cookies
    assert client.get("/api/jobs").headers["cache-control"] == "no-store"
    assert client.get("/api/nothing-here").headers["cache-control"] == "no-store"
    # Outside the roots, a file that exists and one that does not get the same answer.
    secret = tmp_path / "secret.mkv"
    write_video(secret, frames=2)
    answers = {client.post("/api/jobs", json={"input": p}).status_code for p in (str(secret), str(tmp_path / "no.mkv"))}
    assert answers == {403}
    assert client.get(f"/api/files?path={tmp_path / 'nowhere'}").status_code == 403
    assert client.get(f"/api/files?path={root / 'nowhere'}").status_code == 404  # inside: may be told
    state = tmp_path / "out" / ".vidcolor-serve"
    assert (state / "queue.sqlite").stat().st_mode & 0o777 == 0o600
    assert state.stat().st_mode & 0o077 == 0


def test_uploads_can_be_deleted_and_previews_expire(paused, root, tmp_path):
    from vidcolor.web.routes_previews import PREVIEW_LIFETIME

    client = paused
    upload = client.post("/api/uploads?name=mine.mkv", content=Path(film_of(root)).read_bytes()).json()
    folder = tmp_path / "out" / ".vidcolor-serve" / "uploads" / upload["id"]
    assert folder.is_dir()
    job = client.post("/api/jobs", json={"upload": upload["id"], "options": options(root)}).json()
    busy = client.delete(f"/api/uploads/{upload['id']}")
    assert busy.status_code == 409 and "mine.mkv" in busy.json()["error"]
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 200
    assert client.delete(f"/api/uploads/{upload['id']}").json() == {"id": upload["id"], "removed": True}
    assert not folder.exists() and client.delete(f"/api/uploads/{upload['id']}").status_code == 404
    assert client.post("/api/jobs", json={"upload": upload["id"]}).status_code == 404

    # Previews older than their lifetime go when the server starts (and at each new preview).
    previews = tmp_path / "other" / ".vidcolor-serve" / "previews"
    old, new = previews / "0123456789ab", previews / "ba9876543210"
    for made in (old, new):
        made.mkdir(parents=True)
        (made / "0-after.png").write_bytes(b"x")
    stale = time.time() - PREVIEW_LIFETIME - 60
    os.utime(old, (stale, stale))
    with make_client(root, tmp_path / "other"):
        assert not old.exists() and new.is_dir()


def dies_the_first_time(marker: str) -> str:
    """In a preview worker: killed (as by the out-of-memory killer) unless ``marker`` exists."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(137)
    return "done"


def test_a_preview_worker_that_dies_mid_request_is_replaced_and_the_request_retried(tmp_path):
    from vidcolor.web.frames import Previews

    previews = Previews()
    try:
        assert previews._run(dies_the_first_time, str(tmp_path / "died")).result(timeout=120) == "done"
        assert (tmp_path / "died").exists()
    finally:
        previews.close()


# -- a real server, killed ---------------------------------------------------------------------
def children(pid: int) -> set[int]:
    """The processes ``pid`` started, and theirs (from /proc)."""
    found, frontier = set(), {pid}
    while frontier:
        parents, frontier = frontier, set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in parents and int(entry.name) not in found:
                found.add(int(entry.name))
                frontier.add(int(entry.name))
    return found


def workers_of(pid: int) -> set[int]:
    """Its multiprocessing workers (not the resource tracker)."""
    out = set()
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            out.add(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Served:
    """``vidcolor serve`` in a subprocess, its API through HTTP."""

    def __init__(self, root: Path, output: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vidcolor", "serve", "--root", str(root), "--output", str(output),
             "--port", "0", "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        assert "serving at" in line, line
        self.base = line.split("serving at ")[1].split("/?token")[0]
        import httpx

        self.http = httpx.Client(base_url=self.base, headers=BEARER, timeout=120)

    def job(self, job_id: str) -> dict:
        return self.http.get(f"/api/jobs/{job_id}").json()

    def wait(self, job_id: str, test, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while not test(job := self.job(job_id)):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        return job

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.http.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.http.close()


def test_a_server_killed_takes_its_workers_with_it_and_a_restart_resumes_the_job(root, tmp_path):
    film = root / "films" / "long.mkv"
    write_video(film, frames=100, fps=25)
    out = tmp_path / "out"
    server = Served(root, out)
    try:
        # A preview worker, killed: the next request gets a new one.
        preview = {"input": film_of(root), "options": options(root)}
        assert server.http.post("/api/previews", json=preview).status_code == 201
        previewer = workers_of(server.process.pid)
        assert len(previewer) == 1
        os.kill(previewer.pop(), signal.SIGKILL)
        again = server.http.post("/api/previews", json=preview)
        assert again.status_code == 201, again.text

        job = server.http.post("/api/jobs", json={"input": str(film), "options": options(root, segment_seconds=1)})
        job_id = job.json()["id"]
        server.wait(job_id, lambda j: j["frames_done"] >= 30 or j["state"] != "running" and j["state"] != "queued")
        assert server.job(job_id)["state"] == "running"
        workers = workers_of(server.process.pid)
        assert len(workers) == 2  # the preview worker and the job's worker
    except BaseException:
        server.kill()
        raise
    server.kill()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers):
        assert time.monotonic() < deadline, f"orphaned workers still alive: {[p for p in workers if alive(p)]}"
        time.sleep(0.1)

    server = Served(root, out)
    try:
        done = server.wait(job_id, lambda j: j["state"] in ("done", "failed"))
        assert done["state"] == "done", done["error"]
        item = server.http.get(f"/api/jobs/{job_id}/report").json()["items"][0]
        assert item["segments"] == 4 and item["segments_resumed"] >= 1 and item["frames"] == 100
        assert len(frame_times(Path(done["output"]))) == 100
    finally:
        server.stop()
