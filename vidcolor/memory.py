"""Keep the process's memory flat over a long film.

Every frame allocates and frees a few arrays of megabytes on several threads. glibc serves
those from mmap at first, but raises its mmap threshold after each free, up to 32 MiB, so later
ones come from the per-thread heaps, which fragment and hold on to memory. Measured at 1080p on
a GPU machine (16 cores, paper-large at 512, bf16), peak RSS of a whole run: 7982 MiB for 192
frames and 8638 MiB for 768 by default; 6529 and 6563 MiB with the threshold fixed at 1 MiB from
the start (MALLOC_MMAP_THRESHOLD_=1048576). Fixed from here, once the model is loaded, it gave
7858 MiB for 384 frames, against 8309 MiB without. See mallopt(3), M_MMAP_THRESHOLD.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache

_M_MMAP_THRESHOLD = -3
LARGE = 1 << 20


@lru_cache(maxsize=1)
def keep_large_arrays_on_mmap() -> bool:
    """Fix glibc's mmap threshold at 1 MiB (once per process); False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE))
    except (OSError, AttributeError):
        return False  # musl and others: no mallopt
