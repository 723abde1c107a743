"""Benchmark: whole-process start-up of `omareview --help` and `omareview subject URL`, beside
`python -c "import click"` (the floor of any click command line), median of 10 runs each, interleaved."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 10


def _omareview() -> list[str]:
    script = shutil.which("omareview") or str(Path(sys.executable).parent / "omareview")
    return [script]


def main() -> dict[str, float]:
    commands = {
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "omareview --help": [*_omareview(), "--help"],
        "omareview subject URL": [*_omareview(), "subject", "https://www.api.example.com/premium"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            timings[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    floor = medians["python -c 'import click'"]
    for name, median in medians.items():
        print(f"{name:28} median {median * 1000:6.1f} ms   {median / floor:4.2f}x the click floor")
    for name in ("omareview --help", "omareview subject URL"):
        verdict = "meets" if medians[name] <= 2 * floor else "MISSES"
        print(f"  {name}: {verdict} the target of at most 2x")
    return medians


if __name__ == "__main__":
    main()
