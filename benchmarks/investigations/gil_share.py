"""How much of a run's wall time some thread holds Python's GIL, and what holds it. Printed numbers.

On a GPU the pipeline's CPU stages run on many threads (decoding, the frames' Lab steps and
blends, DIS, the encoder's muxing): C code that releases the GIL overlaps, Python and the
argument parsing of each torch call do not. Past some frame rate the GIL, not the cores, sets
the pace; this says how near a run is to that wall. It runs the command under py-spy, sampling
only the thread holding the GIL (``--gil``): held share = samples / (rate x wall time).

    python benchmarks/investigations/gil_share.py -- python benchmarks/throughput.py --ceiling --sizes 1920x1080

Where py-spy is missing or may not trace the command (no ptrace here), the command runs alone and
this says so: its own numbers are never lost.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    """The py-spy that can trace a child here, or None."""
    found = shutil.which("py-spy") or next((str(p) for p in (Path(sys.executable).parent / "py-spy",
                                                              Path(sys.prefix) / "bin" / "py-spy") if p.is_file()), None)
    if found is None:
        return None
    probe = subprocess.run([found, "record", "--nonblocking", "-d", "1", "-o", "/dev/null", "-f", "raw", "--",
                            sys.executable, "-c", "import time; time.sleep(1.5)"], capture_output=True)
    return found if probe.returncode == 0 else None


def holders(raw: Path, top: int) -> tuple[int, list[tuple[str, int]]]:
    """Samples in py-spy's raw output, and the functions most often on top of the GIL holder's stack."""
    counts: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        counts[stack.split(";")[-1].strip() or "(no Python frame)"] += int(n)
    return total, counts.most_common(top)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rate", type=int, default=100, help="samples a second")
    p.add_argument("--top", type=int, default=15, help="GIL holders listed")
    p.add_argument("--raw", type=Path, help="keep py-spy's raw samples here")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("give the command to measure after --")
    spy = py_spy()
    if spy is None:
        print("gil_share: py-spy is missing or may not trace here; the command runs alone", flush=True)
        return subprocess.run(command).returncode
    raw = a.raw or Path(tempfile.mkdtemp(prefix="vidcolor-gil-")) / "samples.txt"
    t0 = time.perf_counter()
    rc = subprocess.run([spy, "record", "--gil", "--nonblocking", "-r", str(a.rate), "-f", "raw",
                         "-o", str(raw), "--", *command]).returncode
    wall = time.perf_counter() - t0
    if not raw.is_file():
        print(f"gil_share: py-spy wrote no samples (exit {rc})")
        return rc
    total, top = holders(raw, a.top)
    print(f"GIL held {100 * total / (a.rate * wall):.0f}% of the wall time ({total} samples at {a.rate}/s over "
          f"{wall:.1f} s); where its holder was, by share of the samples:")
    for where, n in top:
        print(f"  {100 * n / max(total, 1):5.1f}%  {where}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
