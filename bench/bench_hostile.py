"""Hostile profiles: time and peak memory of ``validate`` on files built to exhaust a parser.

Each case is a fresh profile directory with one hostile model file; ``lmsprofiles validate``
runs in a separate process (so peak memory is that process's own) and the table prints wall
time and peak RSS, each with its ratio to the example profiles validated the same way in the
same run. Nothing is asserted.

    .venv/bin/python bench/bench_hostile.py [--repeats N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def billion_laughs() -> str:
    lines = ["model: m", "a0: &a0 [lol]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def million_leaves() -> str:
    return "model: m\nx: [" + "1," * 1_000_000 + "1]\n"


def leaves_under_size_limit() -> str:
    return "model: m\nx: [" + "1," * 120_000 + "1]\n"  # passes the value limit at 20000


def deep_nesting() -> str:
    return "model: m\ninference:\n  structured:\n    jsonSchema: " + "[" * 300 + "]" * 300 + "\n"


def fifty_mb() -> str:
    return "model: m\n" + "# padding\n" * 5_000_000


CASES: dict[str, Callable[[], str] | None] = {
    "example profiles (baseline)": None,
    "billion laughs (aliases a0..a8)": billion_laughs,
    "10^6 leaves (2 MB)": million_leaves,
    "120000 leaves (240 kB)": leaves_under_size_limit,
    "300 levels of nesting": deep_nesting,
    "50 MB file": fifty_mb,
}


_CHILD = """
import resource, sys
from lmsprofiles._cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def measure(profiles: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB (its own) and exit code of one validate process."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, "--profiles", str(profiles), "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    peak_kb = int(result.stderr.splitlines()[-1])  # ru_maxrss is in kB on Linux
    return seconds, peak_kb / 1024, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--write", nargs=2, metavar=("CASE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        make = CASES[args.write[0]]
        assert make is not None
        Path(args.write[1]).write_text(make())
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            root = Path(tmp) / name.split()[0]
            if make is None:
                shutil.copytree(REPO / "profiles", root)
            else:
                (root / "models").mkdir(parents=True)
                # written by a helper process: a child started from a process that once held
                # a large string would report that process's peak memory as its own
                target = root / "models" / "a.yaml"
                subprocess.run([sys.executable, __file__, "--write", name, str(target)], check=True)
            runs = [measure(root) for _ in range(args.repeats)]
            rows.append(
                (
                    name,
                    statistics.median(r[0] for r in runs),
                    max(r[1] for r in runs),
                    runs[0][2],
                )
            )
    base_time, base_mem = rows[0][1], rows[0][2]
    print(f"{'case':34} {'exit':>4} {'time s':>8} {'x base':>7} {'peak MB':>8} {'x base':>7}")
    for name, seconds, peak, code in rows:
        print(
            f"{name:34} {code:>4} {seconds:8.3f} {seconds / base_time:7.2f} "
            f"{peak:8.1f} {peak / base_mem:7.2f}"
        )
    print("time: wall clock of the whole process; peak MB: its own maximum resident set")


if __name__ == "__main__":
    main()
