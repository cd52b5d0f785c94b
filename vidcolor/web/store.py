"""The server's queue: its jobs, their order and state, and its uploads, in one SQLite file in the
output folder, committed at each change, so the queue outlives the tab and the server.

A job's work (its segments, what is finished) is not here: each job is a one-film batch in its
own folder, with the batch manifest that makes it resume.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from ..errors import VidcolorError
from ..media.atomic import hold_lock

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    position REAL NOT NULL,       -- the queue's order
    input TEXT NOT NULL,          -- absolute path (under a root, or an upload's file)
    name TEXT NOT NULL,           -- as the user knows it (an upload's original name)
    options TEXT NOT NULL,        -- JSON: keyword arguments of the Python API
    state TEXT NOT NULL,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    fps REAL,
    eta_seconds REAL,
    error TEXT,
    output TEXT,                  -- the result's path, once done
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,           -- the name it was sent with: shown, never used as a path
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
"""
_FIELDS = ("id", "state", "name", "input", "options", "frames_done", "frames_total", "fps", "eta_seconds", "error",
           "output", "created", "started", "finished", "position")


class JobStore:
    """``folder/queue.sqlite``, locked while a server has it open: two servers on one output
    folder would run each other's jobs."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)  # the queue, the uploads and the previews: the owner's alone
        self._lock_fd = hold_lock(folder / "lock")
        if self._lock_fd is False:
            raise VidcolorError(f"{folder.parent}: another vidcolor serve is using this output folder")
        path = folder / "queue.sqlite"
        path.touch(mode=0o600)  # the jobs' paths and options: the owner's alone
        path.chmod(0o600)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        self._mutex = threading.Lock()

    def close(self) -> None:
        self._db.close()
        if isinstance(self._lock_fd, int):
            os.close(self._lock_fd)

    def _run(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._mutex:
            return self._db.execute(sql, args).fetchall()

    # -- jobs -------------------------------------------------------------------------------
    def add(self, input: Path, name: str, options: dict) -> dict:
        job_id = uuid.uuid4().hex[:12]
        last = self._run("SELECT MAX(position) FROM jobs")[0][0]
        self._run("INSERT INTO jobs (id, position, input, name, options, state, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (job_id, (last or 0) + 1, str(input), name, json.dumps(options, sort_keys=True), QUEUED, time.time()))
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        rows = self._run("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def all(self) -> list[dict]:
        return [_job(r) for r in self._run("SELECT * FROM jobs ORDER BY position")]

    def next_queued(self, exclude=()) -> dict | None:
        """The first queued job, not counting those in ``exclude``."""
        marks = ", ".join("?" * len(exclude))
        rows = self._run(f"SELECT * FROM jobs WHERE state = ? AND id NOT IN ({marks}) ORDER BY position LIMIT 1",
                         (QUEUED, *exclude))
        return _job(rows[0]) if rows else None

    def update(self, job_id: str, **values) -> dict | None:
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise ValueError(f"no such job field: {', '.join(sorted(unknown))}")
        if values:
            assignments = ", ".join(f"{k} = ?" for k in values)
            self._run(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id))
        return self.get(job_id)

    def move(self, job_id: str, index: int) -> None:
        """Put the job at ``index`` (0: first) of the queue."""
        order = [j["id"] for j in self.all() if j["id"] != job_id]
        order.insert(max(0, min(index, len(order))), job_id)
        with self._mutex:
            self._db.execute("BEGIN")
            for i, jid in enumerate(order):
                self._db.execute("UPDATE jobs SET position = ? WHERE id = ?", (i + 1, jid))
            self._db.execute("COMMIT")

    def remove(self, job_id: str) -> None:
        self._run("DELETE FROM jobs WHERE id = ?", (job_id,))

    def requeue_interrupted(self) -> list[str]:
        """Jobs left running by a server that stopped: queued again, to resume where they were."""
        ids = [r[0] for r in self._run("SELECT id FROM jobs WHERE state = ?", (RUNNING,))]
        self._run("UPDATE jobs SET state = ?, fps = NULL, eta_seconds = NULL WHERE state = ?", (QUEUED, RUNNING))
        return ids

    # -- uploads ----------------------------------------------------------------------------
    def add_upload(self, upload_id: str, name: str, path: Path, size: int) -> dict:
        self._run("INSERT INTO uploads (id, name, path, size, created) VALUES (?, ?, ?, ?, ?)",
                  (upload_id, name, str(path), size, time.time()))
        return self.upload(upload_id)

    def upload(self, upload_id: str) -> dict | None:
        rows = self._run("SELECT * FROM uploads WHERE id = ?", (upload_id,))
        return dict(rows[0]) if rows else None

    def remove_upload(self, upload_id: str) -> None:
        self._run("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def using(self, path: str, states=(QUEUED, RUNNING)) -> list[str]:
        """The jobs in ``states`` whose input is ``path``."""
        marks = ", ".join("?" * len(states))
        return [r[0] for r in self._run(f"SELECT id FROM jobs WHERE input = ? AND state IN ({marks})", (path, *states))]


def finite(value):
    """``value`` with every float that is not finite made None (a row stored before they were
    refused), so that no stored value can break an answer."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _job(row: sqlite3.Row) -> dict:
    job = dict(row)
    job["options"] = json.loads(job["options"])
    return job
