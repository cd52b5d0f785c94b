"""The batch manifest: one SQLite file in ``OUT_DIR/.vidcolor``, the one record of what is done.

Every item (one input file) has a row: its input and fingerprint, the settings it is made with,
its state, the output and its checksum, the error, timings. A long film also has a row per
segment. Each change is committed at once, so a crash loses at most the work in flight.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import VidcolorError

FOLDER = ".vidcolor"
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
STATES = (PENDING, RUNNING, DONE, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    input TEXT PRIMARY KEY,       -- absolute path
    output TEXT NOT NULL,         -- relative to the output folder
    kind TEXT NOT NULL,           -- video or image
    fingerprint TEXT NOT NULL,    -- size:mtime_ns:sha256 of the first and last MiB
    settings TEXT NOT NULL,       -- JSON of every option that changes the output
    state TEXT NOT NULL,
    plan TEXT,                    -- key of the segment plan in use (video)
    segments INTEGER,             -- in that plan
    error TEXT,
    output_sha256 TEXT,
    output_size INTEGER,
    frames INTEGER,               -- in the output
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    seconds REAL                  -- working time, summed over the runs that finished or failed it
);
CREATE TABLE IF NOT EXISTS segments (
    input TEXT NOT NULL,
    plan TEXT NOT NULL,
    idx INTEGER NOT NULL,
    frames INTEGER,               -- written
    colorized INTEGER,            -- through the network, context frames included
    seconds REAL,
    finished REAL,
    PRIMARY KEY (input, plan, idx)
);
"""


@dataclass
class Item:
    input: str
    output: str
    kind: str
    fingerprint: str
    settings: str
    state: str
    plan: str | None
    segments: int | None
    error: str | None
    output_sha256: str | None
    output_size: int | None
    frames: int | None
    attempts: int
    started: float | None
    finished: float | None
    seconds: float | None


class Manifest:
    def __init__(self, out_dir: Path, create: bool = True):
        self.folder = Path(out_dir) / FOLDER
        self.path = self.folder / "manifest.sqlite"
        if not create and not self.path.is_file():
            raise VidcolorError(f"{out_dir}: no batch here (no {FOLDER}/manifest.sqlite)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # One writer (the driver); autocommit, so every change is on disk when the call returns.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise VidcolorError(f"{self.path}: cannot open the batch manifest ({e})") from None

    @property
    def work(self) -> Path:
        return self.folder / "work"

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- items --------------------------------------------------------------------------
    def item(self, input: str) -> Item | None:
        row = self._db.execute("SELECT * FROM items WHERE input = ?", (input,)).fetchone()
        return Item(*row) if row else None

    def items(self) -> list[Item]:
        return [Item(*row) for row in self._db.execute("SELECT * FROM items ORDER BY rowid")]

    def reset(self, input: str, output: str, kind: str, fingerprint: str, settings: dict) -> None:
        """Start the item afresh: pending, nothing done, no segments."""
        with self._transaction():
            self._db.execute("DELETE FROM segments WHERE input = ?", (input,))
            self._db.execute(
                "INSERT INTO items (input, output, kind, fingerprint, settings, state) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (input) DO UPDATE SET output = excluded.output, kind = excluded.kind, "
                "fingerprint = excluded.fingerprint, settings = excluded.settings, state = excluded.state, "
                "plan = NULL, segments = NULL, error = NULL, output_sha256 = NULL, output_size = NULL, frames = NULL, "
                "attempts = 0, started = NULL, finished = NULL, seconds = NULL",
                (input, output, kind, fingerprint, dump_settings(settings), PENDING))

    def start(self, input: str) -> None:
        self._db.execute("UPDATE items SET state = ?, error = NULL, attempts = attempts + 1, started = ? "
                         "WHERE input = ?", (RUNNING, time.time(), input))

    def use_plan(self, input: str, plan: str, segments: int) -> None:
        """Segments made under another plan (other settings, another segment length) are void."""
        with self._transaction():
            self._db.execute("DELETE FROM segments WHERE input = ? AND plan != ?", (input, plan))
            self._db.execute("UPDATE items SET plan = ?, segments = ? WHERE input = ?", (plan, segments, input))

    def done(self, input: str, frames: int, output_sha256: str, output_size: int, seconds: float) -> None:
        self._db.execute("UPDATE items SET state = ?, frames = ?, output_sha256 = ?, output_size = ?, "
                         "finished = ?, seconds = COALESCE(seconds, 0) + ? WHERE input = ?",
                         (DONE, frames, output_sha256, output_size, time.time(), seconds, input))

    def fail(self, input: str, error: str, seconds: float) -> None:
        self._db.execute("UPDATE items SET state = ?, error = ?, finished = ?, seconds = COALESCE(seconds, 0) + ? "
                         "WHERE input = ?", (FAILED, error, time.time(), seconds, input))

    # -- segments -----------------------------------------------------------------------
    def segment_done(self, input: str, plan: str, index: int, frames: int, colorized: int, seconds: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO segments VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (input, plan, index, frames, colorized, seconds, time.time()))

    def segments_done(self, input: str, plan: str) -> dict[int, tuple[int, int]]:
        """{index: (frames, colorized)} of the item's finished segments under ``plan``."""
        rows = self._db.execute("SELECT idx, frames, colorized FROM segments WHERE input = ? AND plan = ?",
                                (input, plan))
        return {i: (f, c) for i, f, c in rows}

    def segment_progress(self, item: Item) -> tuple[int, int]:
        """(segments finished, segments planned) of a film cut into segments; (0, 0) otherwise."""
        if not item.plan:
            return 0, 0
        return len(self.segments_done(item.input, item.plan)), item.segments or 0


def dump_settings(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True, default=str)
