"""What a job's worker process runs: the job as a one-film batch in its own folder, its progress
sent back as events. A batch resumes, so a job stopped by a cancel or a server's restart goes on
from its last finished segment when it runs again."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

# Progress of one job reaches the server at most this often; its start and end always.
SEND_EVERY = 0.25  # seconds
PICTURE = "picture.jpg"  # in the job's folder: the latest frame made
# Seconds a job waits for the lock on its folder: the worker of a server killed a moment ago is
# still being ended (vidcolor.lifeline) and lets go of it when it is.
LOCK_WAIT = 30.0


def wait_for_folder(folder: Path, seconds: float = LOCK_WAIT) -> None:
    """Until no other process holds the job's batch lock, or ``seconds`` have passed (the batch
    then says who holds it)."""
    from ..resume.manifest import FOLDER
    from ..media.atomic import hold_lock

    deadline = time.monotonic() + seconds
    while True:
        fd = hold_lock(folder / FOLDER / "lock", create=False)
        if fd is not False:
            if fd is not None:
                os.close(fd)
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def run_job(job_id: str, input: str, folder: str, options: dict, events) -> None:
    """Colorize ``input`` into ``folder`` with ``options`` (the Python API's keywords), putting
    ``(kind, job_id, payload)`` on ``events``: "progress" (a progress event's dict), then one of
    "done" (the output's path), "failed" (the one-line error) or "stopped" (cancelled)."""

    def stop(signum, frame):  # a cancel: end as Ctrl-C does, the batch's workers with it
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    last = [0.0]

    def forward(event) -> None:
        now = time.monotonic()
        if event.kind == "picture" and event.picture:  # the latest frame made, for the queue's thumbnail
            partial = Path(folder) / ".picture.jpg.partial"
            partial.write_bytes(event.picture)
            partial.replace(Path(folder) / PICTURE)
            return events.put(("picture", job_id, {}))
        if event.task != "batch" or (event.kind == "advance" and now - last[0] < SEND_EVERY):
            return
        last[0] = now
        events.put(("progress", job_id, event.as_dict()))

    try:
        from ..batch import run_batch
        from ..errors import VidcolorError

        from .steer import references_of

        wait_for_folder(Path(folder))
        try:
            summary = run_batch([input], folder, engine="inline", quiet=True, on_progress=forward,
                                report=Path(folder) / "report.json", **options, **references_of(Path(folder)))
        except VidcolorError as e:
            return events.put(("failed", job_id, {"error": str(e)}))
        except TypeError as e:  # an option the API does not take
            return events.put(("failed", job_id, {"error": str(e)}))
        item = summary.items[0] if summary.items else None
        if item is None:
            return events.put(("failed", job_id, {"error": f"{input}: not a video or image vidcolor can read"}))
        if item.state != "done":
            return events.put(("failed", job_id, {"error": item.error or f"{input}: not finished"}))
        events.put(("done", job_id, {"output": item.output, "frames": item.frames, "warnings": item.warnings}))
    except KeyboardInterrupt:
        events.put(("stopped", job_id, {}))
    except Exception as e:  # a bug: reported with the job, not lost in a worker's stderr
        events.put(("failed", job_id, {"error": f"{input}: internal error: {type(e).__name__}: {e}"}))
