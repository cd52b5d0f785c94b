"""Worker processes die with the process that started them.

A server or a batch killed with SIGKILL (or by the out-of-memory killer) runs no cleanup, and its
workers would live on as orphans: still writing into a job's folder, holding its lock and their
memory. Each worker therefore watches its parent twice over: the kernel's parent-death signal
where Linux has it (immediate, even while the worker is busy in C code), and everywhere a
thread that looks for the parent every ``POLL`` seconds (the kernel's signal follows the
*thread* that started the worker, so the poll also covers a starting thread that has ended).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

POLL = 0.5  # seconds between looks at the parent
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, kernel: bool = True) -> None:
    """Call first thing in a worker whose parent's pid is ``parent``: once the parent is gone,
    the worker is killed (its own workers then follow, each watching it). ``kernel`` False: the
    poll alone, for a worker that a short-lived thread may start (a pool replacing a dead worker
    from its own management thread), which the kernel's signal would kill as that thread ends."""
    if kernel and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the poll below still holds
    if os.getppid() != parent:  # gone before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="vidcolor-lifeline", daemon=True).start()


def _watch(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL):
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


def started(target, parent: int, *args) -> None:
    """``target(*args)`` in a worker process that dies with ``parent`` (a picklable entry point
    for ``multiprocessing.Process``)."""
    die_with_parent(parent)
    target(*args)
