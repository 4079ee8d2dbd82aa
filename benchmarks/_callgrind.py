"""Machine instructions a process's main thread executes, counted by valgrind's callgrind.

On a shared machine neither the wall clock nor CPU time repeats from run to run; instruction counts
do, within a few per mille. The benchmarks run a measured step N1 and N2 times in two fresh
processes with the same start-up and divide the difference of the counts by N2 - N1: the cost of one
step, start-up and the SDK's background thread excluded.
"""

from __future__ import annotations

import os
import subprocess
import tempfile


def main_thread_instructions(command: list[str], env: dict[str, str], cwd: str) -> float:
    """Instructions the main thread of ``command`` executes (``valgrind`` must be on PATH)."""
    out_dir = tempfile.mkdtemp()
    out_file = os.path.join(out_dir, "callgrind.out")
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--separate-threads=yes",
            f"--callgrind-out-file={out_file}",
            *command,
        ],
        # The same hash seed for every run: dict and set layouts, and so the work, repeat exactly.
        env={**env, "PYTHONHASHSEED": "0"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    try:
        if run.returncode:
            lines = run.stderr.strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"exit {run.returncode}")
        with open(out_file + "-01") as main_thread:  # thread 1 is the main thread
            for line in main_thread:
                if line.startswith("summary:"):
                    return float(line.split()[1])
        raise RuntimeError("callgrind wrote no summary")
    finally:
        for name in os.listdir(out_dir):
            os.unlink(os.path.join(out_dir, name))
        os.rmdir(out_dir)
