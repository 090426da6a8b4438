"""Benchmark: the speed goals of ``lmsprofiles validate``, each as a ratio to a baseline
measured in the same run.

Every figure is the CPU time (user + system) or peak memory of whole processes, the median of
``--runs`` runs, taken from ``os.wait4``. The trees are written by ``bench/generate.py``
(N models, each overriding all 20 request kinds) with their files dated an hour back, as
files edited a while ago are (the cache does not trust a file modified within two seconds of
being read). The cache lives in a temporary directory; ``cold`` runs start with it empty.

1. cold ``validate`` of the N x 20 tree vs parsing the same files with PyYAML's C
   SafeLoader (``yaml.load(data, Loader=yaml.CSafeLoader)``, merge tags taken as plain
   values): the parse floor. ``--no-cache`` is shown too.
2. warm ``validate`` (no file changed since the last run) vs the same floor.
3. warm ``validate`` after editing one model file vs the same floor.
4. scaling: the cold cost per model file of 50, 500 and 5,000 models (the cost of the same
   tree without models, i.e. start-up and the request files, taken off), and the largest
   over the smallest.
5. peak memory of a cold ``validate`` of the largest tree.
6. ``lmsprofiles --help`` vs ``python -c "import argparse"``.
7. ``validate --no-cache`` of the example profiles vs
   ``python -c "import pydantic_settings, ruamel.yaml"``.

Nothing is asserted. Run: ``.venv/bin/python bench/bench_speed.py`` (about two minutes on
2 cores; ``--scaling 50,500 --runs 3`` for a quick look).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generate import write_tree

import lmsprofiles

EXAMPLE_PROFILES = Path(__file__).resolve().parent.parent / "profiles"
HOUR = 3600

FLOOR = """\
import os, sys, yaml

class Loader(yaml.CSafeLoader):
    pass

def tagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)

Loader.add_multi_constructor("!", tagged)
for folder, _, names in sorted(os.walk(sys.argv[1])):
    for name in sorted(names):
        with open(os.path.join(folder, name), "rb") as handle:
            yaml.load(handle.read(), Loader=Loader)
"""
"""The parse floor: every file of the tree through libyaml's SafeLoader, nothing else."""


@dataclass
class Usage:
    """What one process used: CPU seconds (user + system) and peak memory in MB."""

    cpu: float
    peak_mb: float


class Bench:
    """Runs processes with a clean environment and a private cache dir."""

    def __init__(self, work: Path, runs: int) -> None:
        self.runs = runs
        self.cache = work / "cache"
        config = work / "config"
        config.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith("LMSPROFILES_")}
        self.env |= {"XDG_CACHE_HOME": str(self.cache), "XDG_CONFIG_HOME": str(config)}

    def once(self, argv: Sequence[str], *, ok: tuple[int, ...] = (0,)) -> Usage:
        """Run ``argv`` once; its CPU time and peak memory."""
        child = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert child.stderr is not None
        error = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in ok:
            raise SystemExit(f"{' '.join(argv)} exited {child.returncode}: {error[-500:]!r}")
        return Usage(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)

    def median(self, argv: Sequence[str], *, fresh_cache: bool = False, runs: int = 0) -> Usage:
        """Median CPU and memory of ``runs`` runs (default ``--runs``) after one warm-up."""
        found = []
        for n in range((runs or self.runs) + 1):
            if fresh_cache:
                shutil.rmtree(self.cache, ignore_errors=True)
            usage = self.once(argv)
            if n:
                found.append(usage)
        return _median_of(found)

    def in_turns(
        self, first: Sequence[str], second: Sequence[str], runs: int
    ) -> tuple[Usage, Usage]:
        """Medians of ``runs`` runs of each of two commands taken in turns (after one warm-up
        of each), so that a change in the machine's load touches both alike."""
        found: tuple[list[Usage], list[Usage]] = ([], [])
        for n in range(runs + 1):
            for argv, usages in ((first, found[0]), (second, found[1])):
                usage = self.once(argv)
                if n:
                    usages.append(usage)
        return _median_of(found[0]), _median_of(found[1])


def _median_of(found: Sequence[Usage]) -> Usage:
    return Usage(
        statistics.median(u.cpu for u in found), statistics.median(u.peak_mb for u in found)
    )


def cli() -> list[str]:
    """The installed ``lmsprofiles`` script next to this interpreter."""
    script = Path(sys.executable).parent / "lmsprofiles"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lmsprofiles"]


def make_tree(work: Path, models: int, requests: int) -> tuple[Path, int, float]:
    """Write a tree, dated an hour back; its root, file count and size in MB."""
    root = work / f"tree-{models}x{requests}"
    if root.exists():  # written for an earlier row
        files = list(root.rglob("*.yaml"))
        return root, len(files), sum(f.stat().st_size for f in files) / 1e6
    files = write_tree(root, models, requests)
    then = time.time() - HOUR
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then))
    return root, len(files), sum(f.stat().st_size for f in files) / 1e6


def edit(model: Path, n: int) -> None:
    """Change one value of a model file (its size stays the same)."""
    text = model.read_text(encoding="utf-8")
    model.write_text(re.sub(r"temperature: 0\.\d", f"temperature: 0.{n % 10}", text, count=1))


Row = tuple[str, str, str, str, str]


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"


def goals(bench: Bench, work: Path, models: int, requests: int) -> tuple[list[Row], list[Row]]:
    """Rows 1-3, and rows 6 and 7."""
    root, count, size = make_tree(work, models, requests)
    validate = [*cli(), "--profiles", str(root), "validate"]
    floor = bench.median([sys.executable, "-c", FLOOR, str(root)])
    label = f"{models} x {requests} tree ({count} files, {size:.1f} MB)"
    print(f"{label}: parse floor (C SafeLoader) {floor.cpu:.3f} s CPU")
    cold = bench.median(validate, fresh_cache=True)
    uncached = bench.median([*validate, "--no-cache"])
    bench.once(validate)
    warm = bench.median(validate)
    edits = []
    model = sorted((root / "models").iterdir())[min(7, models - 1)]
    for n in range(bench.runs):
        edit(model, n + 1)
        edits.append(bench.once(validate).cpu)
    edited = statistics.median(edits)
    base = f"C SafeLoader parse {floor.cpu:.3f} s"
    argparse_, help_ = bench.in_turns(
        [sys.executable, "-c", "import argparse"], [*cli(), "--help"], runs=bench.runs * 6
    )
    imports = bench.median([sys.executable, "-c", "import pydantic_settings, ruamel.yaml"])
    example = [*cli(), "--profiles", str(EXAMPLE_PROFILES), "validate", "--no-cache"]
    examples = bench.median(example)
    validate_rows: list[Row] = [
        ("1. cold validate", f"{cold.cpu:.3f} s", base, ratio(cold.cpu, floor.cpu), "<= 2x"),
        (
            "   the same, --no-cache",
            f"{uncached.cpu:.3f} s",
            base,
            ratio(uncached.cpu, floor.cpu),
            "",
        ),
        ("2. warm validate", f"{warm.cpu:.3f} s", base, ratio(warm.cpu, floor.cpu), "<= 0.5x"),
        (
            "3. warm validate, 1 model edited",
            f"{edited:.3f} s",
            base,
            ratio(edited, floor.cpu),
            "<= 1x",
        ),
    ]
    start_rows: list[Row] = [
        (
            "6. lmsprofiles --help",
            f"{help_.cpu * 1000:.0f} ms",
            f'python -c "import argparse" {argparse_.cpu * 1000:.0f} ms',
            ratio(help_.cpu, argparse_.cpu),
            "<= 1.5x",
        ),
        (
            "7. validate --no-cache, example profiles",
            f"{examples.cpu * 1000:.0f} ms",
            f"import pydantic_settings, ruamel.yaml {imports.cpu * 1000:.0f} ms",
            ratio(examples.cpu, imports.cpu),
            "<= 1.5x",
        ),
    ]
    return validate_rows, start_rows


def scaling(bench: Bench, work: Path, sizes: list[int], requests: int, runs: int) -> list[Row]:
    """Rows 4 and 5: cold cost per file, and peak memory of the largest tree."""
    empty, _, _ = make_tree(work / "empty", 0, requests)
    start = bench.median([*cli(), "--profiles", str(empty), "validate"], fresh_cache=True)
    floor_start = bench.median([sys.executable, "-c", FLOOR, str(empty)])
    print(
        f"\n4. cold validate per model file, the tree without models taken off ({requests}"
        f" request kinds and global.yaml: {start.cpu:.3f} s; its parse floor"
        f" {floor_start.cpu:.3f} s)"
    )
    print(
        f"{'models':>7} {'files':>6} {'MB':>6} {'CPU s':>8} {'ms/model':>9} {'floor ms/model':>15}"
    )
    per_file = []
    usage = Usage(0, 0)
    for models in sizes:
        root, count, size = make_tree(work, models, requests)
        argv = [*cli(), "--profiles", str(root), "validate"]
        usage = bench.median(argv, fresh_cache=True, runs=runs)
        floor = bench.median([sys.executable, "-c", FLOOR, str(root)], runs=runs)
        cost = (usage.cpu - start.cpu) / models
        floor_cost = (floor.cpu - floor_start.cpu) / models
        per_file.append(cost)
        print(
            f"{models:>7} {count:>6} {size:>6.1f} {usage.cpu:>8.3f} {cost * 1000:>9.3f}"
            f" {floor_cost * 1000:>15.3f}"
        )
    spread = max(per_file) / min(per_file)
    return [
        (
            "4. cold cost per model file, largest/smallest",
            f"{max(per_file) * 1000:.3f} ms",
            f"{min(per_file) * 1000:.3f} ms",
            f"{spread:.2f}x",
            "<= 1.3x",
        ),
        (
            f"5. peak memory, cold validate, {sizes[-1]} models",
            f"{usage.peak_mb:.0f} MB",
            "300 MB",
            ratio(usage.peak_mb, 300),
            "<= 1x",
        ),
    ]


def print_table(rows: Sequence[Row]) -> None:
    head: Row = ("measure", "lmsprofiles", "baseline (same run)", "ratio", "goal")
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the trees, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--models", type=int, default=500, help="models (default 500)")
    parser.add_argument("--requests", type=int, default=20, help="request kinds (default 20)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--scaling",
        default="50,500,5000",
        help="model counts of the scaling table (default 50,500,5000)",
    )
    parser.add_argument(
        "--scaling-runs", type=int, default=3, help="runs per scaling figure (default 3)"
    )
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.scaling.split(",")]
    # an installed package has its bytecode compiled; PYTHONDONTWRITEBYTECODE would otherwise
    # make every process compile lmsprofiles anew
    compileall.compile_dir(Path(lmsprofiles.__file__).parent, quiet=1)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        bench = Bench(work, args.runs)
        validate_rows, start_rows = goals(bench, work, args.models, args.requests)
        scaling_rows = scaling(bench, work, sizes, args.requests, args.scaling_runs)
    print()
    print_table([*validate_rows, *scaling_rows, *start_rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
