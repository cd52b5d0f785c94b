"""Where a batch's tasks run: worker processes on this machine, or actors on a Ray cluster.

Both hand back ``concurrent.futures.Future``s of ``tasks.Result``; a task's failure is the
exception of its future, and a worker that died raises ``WorkerDied``. The driver never runs
more than ``capacity`` tasks at once, so each task finds an idle worker.
"""
from __future__ import annotations

import ast
import inspect
import multiprocessing
import os
import queue
import signal
import threading
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import VidcolorError, option
from ..lifeline import die_with_parent
from ..threads import available_cores
from .tasks import Worker

ENGINES = ("local", "ray")


class WorkerDied(Exception):
    """The process running a task ended without an answer (killed, crashed, out of memory)."""


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_jobs(device: str) -> int:
    """One worker per GPU where there are several and the device is not pinned; otherwise one."""
    gpus = gpu_count() if device in ("auto", "cuda") else 0
    return max(1, gpus)


def make_engine(name: str, jobs: int | None, device: str, address: str | None = None):
    if name == "local":
        return LocalEngine(jobs or default_jobs(device), device)
    if name == "inline":
        return InlineEngine()
    if name == "ray":
        return RayEngine(jobs, device, address)
    raise VidcolorError(f"unknown engine '{name}': use {' or '.join(ENGINES)}")


# -- local ------------------------------------------------------------------------------
def check_main_guard() -> None:
    """Refuse to start worker processes from a script's unguarded top level: each one imports the
    script again (Python's spawn start method) and would start the batch again itself."""
    frame = inspect.currentframe()
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__"):
        frame = frame.f_back
    if frame is None:
        return
    spec = frame.f_globals.get("__spec__")
    if (spec is None and not frame.f_globals.get("__file__")) or (spec is not None and spec.name.endswith("__main__")):
        return  # an interactive session, or a package's __main__ (`python -m vidcolor`): not imported again
    try:
        tree = ast.parse(Path(frame.f_code.co_filename).read_text())
    except (OSError, SyntaxError, ValueError):
        return
    line = frame.f_lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.lineno <= line <= node.end_lineno:
            return
    raise VidcolorError(f"{frame.f_code.co_filename}, line {line}: a batch runs in worker processes, which "
                        "import this script again; put the code that starts it under "
                        "`if __name__ == \"__main__\":`")


def _is_main_test(test: ast.expr) -> bool:
    names = {getattr(n, "id", None) for n in ast.walk(test)} | {getattr(n, "value", None) for n in ast.walk(test)}
    return "__name__" in names and "__main__" in names


_worker: Worker | None = None


def _start_process(device: str | None, cores: list[int] | None, events, driver: int) -> None:
    global _worker
    die_with_parent(driver)  # even on SIGKILL, instead of working on for nobody
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)  # the thread plan then divides these cores only
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    warnings.filterwarnings("ignore", category=FutureWarning)  # library deprecations are not the user's
    _worker = Worker(device, events)


def _run(task):
    return _worker.run(task)


def _drain(events) -> list:
    """Everything waiting in a queue, without waiting."""
    said = []
    while True:
        try:
            said.append(events.get_nowait())
        except queue.Empty:
            return said


class LocalEngine:
    """``jobs`` worker processes, each with its own model: one per GPU, or a share of the CPU cores.

    Each process is its own one-worker pool, so a process that dies takes only its own task down;
    it is replaced for the next one.
    """

    name = "local"
    retries_on_death = 1  # a task whose process died runs once more, in a fresh process

    def __init__(self, jobs: int, device: str):
        if jobs < 1:
            raise VidcolorError(f"{option('jobs')} {jobs} must be at least 1")
        self.capacity = jobs
        gpus = gpu_count() if device in ("auto", "cuda") else 0
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self._setup = []
        for i in range(jobs):
            if gpus:
                self._setup.append((f"cuda:{i % gpus}", None))
            else:
                share = cores[i * len(cores) // jobs:(i + 1) * len(cores) // jobs] if jobs <= len(cores) else None
                self._setup.append((None, share))
        # A worker killed on interrupt leaves a lock that multiprocessing's tracker process frees
        # at exit, with a warning the user can do nothing about; it inherits this filter.
        os.environ.setdefault("PYTHONWARNINGS", "ignore:resource_tracker:UserWarning")
        self._context = multiprocessing.get_context("spawn")
        self._events = self._context.Queue()  # the workers' progress: (task key, frames written)
        self._pools: list[ProcessPoolExecutor | None] = [None] * jobs
        self._busy = [False] * jobs
        self.describe = f"local, {jobs} worker process(es)" + (f" on {gpus} GPU(s)" if gpus else
                                                               f" sharing {available_cores()} CPU core(s)")

    def submit(self, task) -> Future:
        slot = self._busy.index(False)
        if self._pools[slot] is None:
            self._pools[slot] = ProcessPoolExecutor(1, self._context, initializer=_start_process,
                                                    initargs=(*self._setup[slot], self._events, os.getpid()))
        self._busy[slot] = True
        done: Future = Future()

        def finished(f: Future) -> None:
            self._busy[slot] = False
            try:
                done.set_result(f.result())
            except BrokenProcessPool:
                broken, self._pools[slot] = self._pools[slot], None  # a fresh process for the next task
                broken.shutdown(wait=False)
                done.set_exception(WorkerDied("the worker process died (killed, crashed or out of memory)"))
            except BaseException as e:
                done.set_exception(e)

        self._pools[slot].submit(_run, task).add_done_callback(finished)
        return done

    def progress(self) -> list[tuple[tuple[str, int], int, bytes | None]]:
        """What the workers said of their tasks since last asked: (task key, frames written, a
        picture of the work or None)."""
        return _drain(self._events)

    def close(self, interrupted: bool = False) -> None:
        for pool in self._pools:
            if pool is None:
                continue
            if interrupted:  # do not wait for the task in flight: its segment is redone on resume
                for process in list((pool._processes or {}).values()):
                    process.kill()
            pool.shutdown(wait=True, cancel_futures=True)
        self._events.close()
        self._events.cancel_join_thread()  # what no one will read is not waited for


class InlineEngine:
    """One worker on a thread of this process: for a driver that is itself a worker process (a
    web job's), which would otherwise start Python, torch and the model a second time, and hold
    both in memory. The thread is a daemon: a driver interrupted does not wait for its task."""

    name = "inline"
    capacity = 1
    retries_on_death = 0  # the process is the driver's: if it dies, so does the batch
    describe = "in the driver's process"

    def __init__(self):
        self._events: queue.Queue = queue.Queue()
        self._worker = Worker(None, self._events)

    def submit(self, task) -> Future:
        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(self._worker.run(task))
            except BaseException as e:
                done.set_exception(e)

        threading.Thread(target=run, name="vidcolor-inline", daemon=True).start()
        return done

    def progress(self) -> list[tuple[tuple[str, int], int, bytes | None]]:
        return _drain(self._events)

    def close(self, interrupted: bool = False) -> None:
        pass


# -- Ray --------------------------------------------------------------------------------
class RayEngine:
    """Actors on a Ray cluster (``address``; None starts a local one), one GPU each where there are
    GPUs (by default one per GPU, or one per machine). Ray restarts an actor that dies and runs
    its task again (``max_task_retries``)."""

    name = "ray"
    RETRIES = 2
    retries_on_death = 0  # Ray has already run it again RETRIES times

    def __init__(self, jobs: int | None, device: str, address: str | None):
        try:
            import ray
        except ImportError:
            raise VidcolorError(f"{option('engine')} ray needs Ray: pip install 'vidcolor[ray]'") from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise VidcolorError(f"cannot reach the Ray cluster at {address or 'a local instance'} ({e})") from None
        if jobs is not None and jobs < 1:
            raise VidcolorError(f"{option('jobs')} {jobs} must be at least 1")
        gpus = int(ray.cluster_resources().get("GPU", 0)) if device != "cpu" else 0
        # By default one actor per GPU, or on a cluster without GPUs one per machine.
        self.capacity = jobs or gpus or sum(1 for node in ray.nodes() if node.get("Alive"))
        actor = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1, max_restarts=-1,
                           max_task_retries=self.RETRIES)(Worker)
        from ray.util.queue import Queue

        self._events = Queue()  # the actors' progress: (task key, frames written)
        # On a GPU actor Ray sets CUDA_VISIBLE_DEVICES: "cuda" is then that actor's own GPU.
        self._actors = [actor.remote("cuda" if gpus else None, self._events) for _ in range(self.capacity)]
        self._idle = list(self._actors)
        self.describe = f"ray, {self.capacity} actor(s)" + (", one GPU each" if gpus else " on CPUs")

    def submit(self, task) -> Future:
        actor = self._idle.pop()
        done: Future = Future()

        def finished(f: Future) -> None:
            self._idle.append(actor)
            try:
                done.set_result(f.result())
            except self._ray.exceptions.RayTaskError as e:
                done.set_exception(e.cause if e.cause is not None else RuntimeError(str(e).splitlines()[0]))
            except self._ray.exceptions.RayActorError as e:
                done.set_exception(WorkerDied(f"the Ray worker died {self.RETRIES + 1} times on this task "
                                              f"({str(e).splitlines()[0][:120]})"))
            except BaseException as e:
                done.set_exception(e)

        actor.run.remote(task).future().add_done_callback(finished)
        return done

    def progress(self) -> list[tuple[tuple[str, int], int, bytes | None]]:
        """What the actors said of their tasks since last asked: (task key, frames written, a
        picture of the work or None)."""
        waiting = self._events.qsize()
        return [tuple(x) for x in self._events.get_nowait_batch(waiting)] if waiting else []

    def close(self, interrupted: bool = False) -> None:
        self._events.shutdown()
        for a in self._actors:
            self._ray.kill(a)
        if self._started:
            self._ray.shutdown()
