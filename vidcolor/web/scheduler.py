"""Runs the queue: the next queued jobs, each in a worker process of its own, as many at once as
the server allows; reads their progress and ends, and tells listeners (the page's event stream)
of every change. A thread of the server, never its event loop."""
from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

from ..lifeline import started
from .store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobStore, finite
from .work import run_job

POLL = 0.2  # seconds between looks at the workers when nothing is reported
STOP_GRACE = 30  # seconds a cancelled worker gets to stop its own workers before it is killed


class Scheduler:
    def __init__(self, store: JobStore, output: Path, concurrent: int, notify: Callable[[dict], None]):
        self.store, self.output, self.concurrent, self.notify = store, output, concurrent, notify
        self._context = multiprocessing.get_context("spawn")  # torch and CUDA do not survive a fork
        self._events = self._context.Queue()
        self._running: dict[str, multiprocessing.Process] = {}
        self._cancelling: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vidcolor-scheduler", daemon=True)

    def folder(self, job_id: str) -> Path:
        return self.output / job_id

    def start(self) -> None:
        self.store.requeue_interrupted()
        self._thread.start()

    def stop(self) -> None:
        """Stop every running job (they resume when the server starts again) and the thread."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=STOP_GRACE + 5)

    def poke(self) -> None:
        """Something changed in the queue: look at it now."""
        self._wake.set()

    def cancel(self, job_id: str) -> dict | None:
        job = self.store.get(job_id)
        if job is None or job["state"] not in (QUEUED, RUNNING):
            return job
        job = self.store.update(job_id, state=CANCELLED, fps=None, eta_seconds=None, finished=time.time())
        process = self._running.get(job_id)
        if process is not None:
            process.terminate()  # SIGTERM: the batch stops its own workers
            self._cancelling[job_id] = time.monotonic()
        self.notify(job)
        return job

    def remove(self, job_id: str) -> bool:
        """Forget a job that is not running, and delete its folder (its result with it)."""
        job = self.store.get(job_id)
        if job is None or job_id in self._running:
            return False
        self.store.remove(job_id)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
        self.notify({"id": job_id, "removed": True})
        return True

    # -- the thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._launch()
            self._drain(POLL)
            self._reap()
            self._wake.clear()
        for job_id, process in list(self._running.items()):
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for job_id, process in list(self._running.items()):
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        self._drain(0)

    def _launch(self) -> None:
        while len(self._running) < self.concurrent:
            job = self.store.next_queued(exclude=tuple(self._running))  # a retried job whose worker still stops waits
            if job is None:
                return
            if finite(job["options"]) != job["options"]:  # stored before such numbers were refused
                self.notify(self.store.update(job["id"], state=FAILED, finished=time.time(),
                                              error="its options hold a number that is not finite: remove the job"))
                continue
            folder = self.folder(job["id"])
            folder.mkdir(parents=True, exist_ok=True)
            job = self.store.update(job["id"], state=RUNNING, started=time.time(), error=None, fps=None,
                                    eta_seconds=None, finished=None)
            process = self._context.Process(target=started, name=f"vidcolor-job-{job['id']}", daemon=False,
                                            args=(run_job, os.getpid(), job["id"], job["input"], str(folder),
                                                  job["options"], self._events))
            process.start()
            self._running[job["id"]] = process
            self.notify(job)

    def _drain(self, timeout: float) -> None:
        """Take what the workers reported, waiting up to ``timeout`` for the first report."""
        try:
            message = self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(*message)
            try:
                message = self._events.get_nowait()
            except queue.Empty:
                return

    def _handle(self, kind: str, job_id: str, payload: dict) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        if kind == "progress":
            if job["state"] != RUNNING:
                return
            job = self.store.update(job_id, frames_done=payload["done"], frames_total=payload["total"],
                                    fps=payload["rate"], eta_seconds=payload["eta"])
        elif kind == "done":
            job = self.store.update(job_id, state=DONE, output=payload["output"], finished=time.time(),
                                    frames_done=payload["frames"] or job["frames_done"],
                                    frames_total=payload["frames"] or job["frames_total"], eta_seconds=0)
        elif kind == "failed":
            if job["state"] in (CANCELLED, QUEUED):  # a cancelled worker's last word, its job perhaps retried
                return
            job = self.store.update(job_id, state=FAILED, error=payload["error"], finished=time.time(),
                                    fps=None, eta_seconds=None)
        elif kind == "picture" and job["state"] != RUNNING:
            return
        elif kind == "stopped" and job["state"] == RUNNING:  # the server is stopping: resume next time
            job = self.store.update(job_id, state=QUEUED, fps=None, eta_seconds=None)
        self.notify(job)

    def _reap(self) -> None:
        """Workers that ended: what they reported is in; one that died without a word failed."""
        for job_id, process in list(self._running.items()):
            if process.is_alive():
                if job_id in self._cancelling and time.monotonic() - self._cancelling[job_id] > STOP_GRACE:
                    process.kill()
                continue
            process.join()
            self._drain(0)
            del self._running[job_id]
            self._cancelling.pop(job_id, None)
            job = self.store.get(job_id)
            if job is not None and job["state"] == RUNNING and not self._stop.is_set():
                job = self.store.update(job_id, state=FAILED, finished=time.time(),
                                        error=f"{job['input']}: the worker process died (exit code {process.exitcode})")
                self.notify(job)
