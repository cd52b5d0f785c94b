"""Keep the process's memory flat over a long film, without paying for it in CPU time.

Every frame allocates and frees arrays of megabytes on many threads. glibc gives each thread
that allocates an arena of its own, up to eight per core, and each keeps freed memory for
reuse: with two dozen threads (the GPU plan's workers) the arenas grow apart and the process
with them. Measured at 1080p on a GPU machine (16 cores, paper-large at 512, bf16), peak RSS of
a whole run: 7982 MiB for 192 frames and 8638 MiB for 768 by glibc's default.

vidcolor used to send every array of 1 MiB or more to its own mmap (``M_MMAP_THRESHOLD``): flat
(6529 and 6563 MiB there), but every such array is then faulted in page by page and unmapped
again, on every frame. On a 2-core machine that cost 57-66 ms of kernel time a 1080p frame (the
CPU plan) and 218 a 720p frame (the GPU plan's workers), a fifth to two fifths of the CPU work
outside the network, for 6-25% less peak memory (``benchmarks/investigations/malloc_policy.py``; README, "Keeping
up with a GPU"). Two arenas for the whole process keep the threads' freed memory in one place,
to be reused, with next to no kernel time (``M_ARENA_MAX``), and the run's memory stays flat.
See mallopt(3).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache

_M_ARENA_MAX = -8
ARENAS = 2


@lru_cache(maxsize=1)
def share_malloc_arenas() -> bool:
    """Limit glibc to ``ARENAS`` arenas (once per process, before the run's threads start);
    False where there is no glibc, or where glibc's allocator was tuned through the environment
    (``MALLOC_ARENA_MAX``, ``GLIBC_TUNABLES``...): whoever did that keeps their settings."""
    if any(name.startswith("MALLOC_") for name in os.environ) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    return _mallopt(_M_ARENA_MAX, ARENAS)


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(param, value))
    except (OSError, AttributeError):
        return False  # musl and others: no mallopt
