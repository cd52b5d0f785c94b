"""The batch manifest: one SQLite file in ``OUT_DIR/.vidcolor``, the one record of what is done.

Every item (one input file) has a row: its input and fingerprint, the settings it is made with,
its state, the output and its checksum, the error, timings. A long film also has a row per
segment. Each change is committed at once, so a crash loses at most the work in flight.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import VidcolorError
from ..media.atomic import hold_lock

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
    seconds REAL,                 -- working time, summed over the runs that finished or failed it
    segment_frames INTEGER        -- frames a segment holds, where the pace of the first decided it
);
CREATE TABLE IF NOT EXISTS segments (
    input TEXT NOT NULL,
    plan TEXT NOT NULL,
    idx INTEGER NOT NULL,
    frames INTEGER,               -- written
    colorized INTEGER,            -- through the network, context frames included
    seconds REAL,
    finished REAL,
    cuts TEXT,                    -- JSON list of the scene cuts among its frames, seconds on the output's clock
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
    segment_frames: int | None = None


class Manifest:
    """``out_dir/folder/manifest.sqlite``. Opened to write (``create``), it is locked for as long
    as it is open: a second run on the same outputs is refused instead of mixing its work in."""

    def __init__(self, out_dir: Path, create: bool = True, folder: str = FOLDER):
        self.folder = Path(out_dir) / folder
        self.path = self.folder / "manifest.sqlite"
        if not create and not self.path.is_file():
            raise VidcolorError(f"{out_dir}: no batch here (no {folder}/manifest.sqlite)")
        self._lock = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if create:
                self._lock = hold_lock(self.folder / "lock")
                if self._lock is False:
                    raise VidcolorError(f"{self.folder}: another vidcolor run is working here; wait for it to "
                                        "end, or stop it")
            # One writer (the driver); autocommit, so every change is on disk when the call returns.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            if "cuts" not in {row[1] for row in self._db.execute("PRAGMA table_info(segments)")}:
                self._db.execute("ALTER TABLE segments ADD COLUMN cuts TEXT")  # a manifest of an older version
            if "segment_frames" not in {row[1] for row in self._db.execute("PRAGMA table_info(items)")}:
                self._db.execute("ALTER TABLE items ADD COLUMN segment_frames INTEGER")
        except (OSError, sqlite3.Error) as e:
            self._release()
            raise VidcolorError(f"{self.path}: cannot open the manifest ({e})") from None

    @property
    def work(self) -> Path:
        return self.folder / "work"

    def close(self) -> None:
        self._db.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None and self._lock is not False:
            os.close(self._lock)
        self._lock = None

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
                "attempts = 0, started = NULL, finished = NULL, seconds = NULL, segment_frames = NULL",
                (input, output, kind, fingerprint, dump_settings(settings), PENDING))

    def start(self, input: str) -> None:
        self._db.execute("UPDATE items SET state = ?, error = NULL, attempts = attempts + 1, started = ? "
                         "WHERE input = ?", (RUNNING, time.time(), input))

    def use_plan(self, input: str, plan: str, segments: int) -> None:
        """Segments made under another plan (other settings, another segment length) are void."""
        with self._transaction():
            self._db.execute("DELETE FROM segments WHERE input = ? AND plan != ?", (input, plan))
            self._db.execute("UPDATE items SET plan = ?, segments = ? WHERE input = ?", (plan, segments, input))

    def set_segment_frames(self, input: str, frames: int) -> None:
        """Fix the length of the item's segments (sized by work, once its first is measured)."""
        self._db.execute("UPDATE items SET segment_frames = ? WHERE input = ?", (frames, input))

    def done(self, input: str, frames: int, output_sha256: str, output_size: int, seconds: float) -> None:
        self._db.execute("UPDATE items SET state = ?, frames = ?, output_sha256 = ?, output_size = ?, "
                         "finished = ?, seconds = COALESCE(seconds, 0) + ? WHERE input = ?",
                         (DONE, frames, output_sha256, output_size, time.time(), seconds, input))

    def fail(self, input: str, error: str, seconds: float) -> None:
        self._db.execute("UPDATE items SET state = ?, error = ?, finished = ?, seconds = COALESCE(seconds, 0) + ? "
                         "WHERE input = ?", (FAILED, error, time.time(), seconds, input))

    # -- segments -----------------------------------------------------------------------
    def segment_done(self, input: str, plan: str, index: int, frames: int, colorized: int, seconds: float,
                     cuts: list[float] = ()) -> None:
        self._db.execute("INSERT OR REPLACE INTO segments (input, plan, idx, frames, colorized, seconds, finished, "
                         "cuts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (input, plan, index, frames, colorized, seconds, time.time(), json.dumps(list(cuts))))

    def cuts(self, input: str, plan: str) -> list[float]:
        """The scene cuts of the item's finished segments under ``plan``, in order."""
        rows = self._db.execute("SELECT cuts FROM segments WHERE input = ? AND plan = ? ORDER BY idx", (input, plan))
        return [c for (text,) in rows for c in json.loads(text or "[]")]

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
