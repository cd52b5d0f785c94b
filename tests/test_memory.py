"""The process's malloc policy (``vidcolor/memory.py``): two arenas for all of a run's threads,
unless glibc was tuned through the environment."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")

# Eight threads allocate at once (each holds its memory until all have some, so none can reuse
# another's arena), then glibc lists its arenas on stderr.
ARENAS_AFTER_THREADS = """
import ctypes, threading
from vidcolor.memory import share_malloc_arenas
print(share_malloc_arenas())
barrier = threading.Barrier(8)
def work():
    held = [bytearray(4096) for _ in range(64)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas(env: dict) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", ARENAS_AFTER_THREADS], env={**clean, **env}, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip(), sum(line.startswith("Arena ") for line in out.stderr.splitlines())


def test_a_run_shares_two_malloc_arenas_between_its_threads():
    applied, count = arenas({})
    assert applied == "True" and 1 <= count <= 2


def test_glibc_tuned_through_the_environment_is_left_as_it_is():
    applied, count = arenas({"MALLOC_ARENA_MAX": "4"})
    assert applied == "False" and 3 <= count <= 4
    applied, count = arenas({"MALLOC_TOP_PAD_": "0"})  # tuned otherwise: glibc's arena a thread
    assert applied == "False" and count > 4
