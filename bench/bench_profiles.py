"""Benchmark: the profile core (load, resolve, CLI start-up) against baselines from the same run.

A profile tree of N models x M request overlays (default 500 x 20) is generated in a temporary
directory by ``bench/generate.py``: realistic load and inference blocks, snake_case keys, merge
tags, embedding models, ``deploy: false`` models and, in every LLM profile, its own
``requests.<name>`` overrides of every request kind. Each figure is printed next to a baseline
measured in the same run, with their ratio:

a. validate: ``lmsprofiles.load(dir)`` (parse, check, merge and validate every model with every
   request kind) vs parsing the same files with ruamel.yaml's round-trip loader alone;
b. resolve: every model x request kind with a fresh ``ProfileSet`` cache vs a warm one;
c. ``resolve()`` with one call-site override (a warm profile set) vs building the same
   inference dict by hand from plain dicts;
d. cold start of ``lmsprofiles --help`` and ``lmsprofiles validate`` (subprocesses, median)
   vs ``python -c pass``;
e. which heavy modules ``--help``, ``validate`` and ``render`` import (PASS/FAIL: lmstudio,
   websockets, httpx and rich must not be imported).

Nothing is asserted about time. Run:
``.venv/bin/python bench/bench_profiles.py [--models 500] [--requests 20]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from generate import write_tree
from ruamel.yaml import YAML

import lmsprofiles
from lmsprofiles import ProfileSet

MUST_NOT_IMPORT = ("lmstudio", "websockets", "httpx", "rich")
"""Modules the commands that never contact LM Studio must not pay for."""
ALSO_REPORTED = ("msgspec", "asyncio", "pydantic", "ruamel.yaml", "lmsprofiles.emulator")
"""Modules whose presence is only reported."""

EXAMPLE_PROFILES = Path(__file__).resolve().parent.parent / "profiles"

# --------------------------------------------------------------------------------------------
# Measuring


def best_of(repeats: int, func: Callable[[], object]) -> float:
    """Median wall time of ``func`` over ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call(func: Callable[[], object], budget: float = 0.5) -> float:
    """Seconds per call of a fast ``func``: calibrated so one batch takes about ``budget``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / 5:
            break
        number *= 4
    batches = [elapsed / number]
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(number):
            func()
        batches.append((time.perf_counter() - start) / number)
    return min(batches)


def quiet_env(config_home: Path) -> dict[str, str]:
    """The environment for subprocesses: no LMSPROFILES_* and no user-level global file."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("LMSPROFILES_")}
    env["XDG_CONFIG_HOME"] = str(config_home)
    return env


def cli_command() -> list[str]:
    """The installed ``lmsprofiles`` script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "lmsprofiles"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lmsprofiles"]


def cold_start(argv: Sequence[str], env: Mapping[str, str], runs: int) -> float:
    """Median wall time of a subprocess, in seconds; the first (warm-up) run is discarded."""
    times = []
    for n in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr!r}")
        if n:
            times.append(elapsed)
    return statistics.median(times)


IMPORT_PROBE = """\
import contextlib, io, json, sys
from lmsprofiles._cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
found = [m for m in json.loads(sys.argv[1]) if m in sys.modules]
print(json.dumps({"code": code, "modules": found}))
"""


def imported_modules(args: Sequence[str], env: Mapping[str, str]) -> tuple[object, list[str]]:
    """Exit code and which of the watched modules a CLI run imported."""
    watched = json.dumps([*MUST_NOT_IMPORT, *ALSO_REPORTED])
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, watched, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], list(result["modules"])


# --------------------------------------------------------------------------------------------
# The figures


Row = tuple[str, str, str, str]


def bench_validate(files: list[Path], root: Path, repeats: int) -> list[Row]:
    """(a) load() vs ruamel.yaml round-trip parsing of the same files."""
    yaml = YAML(typ="rt")

    def parse_only() -> None:
        for file in files:
            yaml.load(file.read_text(encoding="utf-8"))

    def load() -> None:
        lmsprofiles.load(root, env={}, user_config=None)

    parse_s = best_of(repeats, parse_only)
    load_s = best_of(repeats, load)
    n = len(files)
    return [
        (
            "a. validate: load() of the tree",
            f"{load_s:.2f} s  {n / load_s:,.0f} files/s",
            f"ruamel rt parse {parse_s:.2f} s  {n / parse_s:,.0f} files/s",
            f"{load_s / parse_s:.1f}x",
        )
    ]


def pairs(profiles: ProfileSet) -> list[tuple[str, str | None]]:
    """Every model with no request, and every LLM with every request kind."""
    result: list[tuple[str, str | None]] = []
    for identifier in profiles.identifiers:
        result.append((identifier, None))
        if profiles.models[identifier].type == "llm":
            result.extend((identifier, name) for name in profiles.requests)
    return result


def bench_resolve(profiles: ProfileSet, repeats: int) -> list[Row]:
    """(b) resolving every model x request kind: fresh cache vs warm cache."""
    todo = pairs(profiles)

    def fresh() -> None:
        profiles._cache.clear()  # what a newly loaded set would do without load()'s pre-check
        for identifier, request in todo:
            profiles.resolve(identifier, request)

    def warm() -> None:
        for identifier, request in todo:
            profiles.resolve(identifier, request)

    fresh_s = best_of(repeats, fresh)
    warm_s = best_of(repeats, warm)
    n = len(todo)
    return [
        (
            f"b. resolve {n:,} model x request, fresh cache",
            f"{n / fresh_s:,.0f} resolves/s",
            f"warm cache {n / warm_s:,.0f} resolves/s",
            f"{fresh_s / warm_s:,.0f}x",
        )
    ]


def by_hand(layers: Sequence[Mapping[str, Any]]) -> Callable[[], dict[str, Any]]:
    """What an application without lmsprofiles writes: overlay plain dicts, then override."""

    def build() -> dict[str, Any]:
        inference: dict[str, Any] = {}
        for layer in layers:
            inference.update(copy.deepcopy(dict(layer)))
        inference["maxTokens"] = 64
        return inference

    return build


def bench_override(profiles: ProfileSet) -> list[Row]:
    """(c) resolve() with one call-site override vs building the dict by hand."""
    identifier = next(i for i in profiles.identifiers if profiles.models[i].type == "llm")
    request = next(iter(profiles.requests), None)
    cfg = profiles.resolve(identifier, request, maxTokens=64)
    # the same values as plain dicts, split the way the layers wrote them
    final = cfg.inference
    half = len(final) // 2
    layers = [dict(list(final.items())[:half]), dict(list(final.items())[half:])]
    hand = by_hand(layers)
    assert hand() == final, (hand(), final)

    resolve_s = per_call(lambda: profiles.resolve(identifier, request, maxTokens=64).inference)
    hand_s = per_call(hand)
    return [
        (
            "c. resolve() + 1 call-site override",
            f"{resolve_s * 1e6:,.1f} us/call",
            f"dict by hand {hand_s * 1e6:,.2f} us/call",
            f"{resolve_s / hand_s:,.0f}x",
        )
    ]


def bench_cold_start(env: Mapping[str, str], runs: int) -> list[Row]:
    """(d) CLI start-up vs a bare interpreter."""
    base = cold_start([sys.executable, "-c", "pass"], env, runs)
    cli = cli_command()
    rows: list[Row] = []
    for label, args in (
        ("--help", ["--help"]),
        ("validate (example profiles)", ["--profiles", str(EXAMPLE_PROFILES), "validate"]),
    ):
        took = cold_start([*cli, *args], env, runs)
        rows.append(
            (
                f"d. cold start: lmsprofiles {label}",
                f"{took * 1000:,.0f} ms",
                f"python -c pass {base * 1000:,.0f} ms",
                f"{took / base:.1f}x",
            )
        )
    return rows


def check_imports(env: Mapping[str, str]) -> list[str]:
    """(e) PASS/FAIL lines: no heavy module behind --help, validate and render."""
    profiles = str(EXAMPLE_PROFILES)
    render_model = "qwen-chat"
    lines = []
    for label, args in (
        ("--help", ["--help"]),
        ("validate", ["--profiles", profiles, "validate"]),
        ("render", ["--profiles", profiles, "render", render_model]),
    ):
        code, found = imported_modules(args, env)
        bad = [m for m in found if m in MUST_NOT_IMPORT]
        info = [m for m in found if m in ALSO_REPORTED]
        verdict = "FAIL" if bad else "PASS"
        detail = f"imports {', '.join(bad)}" if bad else f"none of {', '.join(MUST_NOT_IMPORT)}"
        lines.append(
            f"{verdict}  lmsprofiles {label:<9} (exit {code}): {detail}"
            f"   [also loaded: {', '.join(info) or 'none'}]"
        )
    return lines


def print_table(rows: Sequence[Row]) -> None:
    """Print the figures as an aligned table."""
    head: Row = ("benchmark", "lmsprofiles", "baseline (same run)", "ratio")
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(4)]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print(line)
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths[:3], strict=True)]
        print("  ".join([*cells, row[3].rjust(widths[3])]))


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the tree, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--models", type=int, default=500, help="model profiles (default 500)")
    parser.add_argument("--requests", type=int, default=20, help="request overlays (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (default 3)")
    parser.add_argument("--cold-runs", type=int, default=5, help="subprocess runs (default 5)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-profiles-"))
    try:
        root = tmp / "profiles"
        files = write_tree(root, args.models, args.requests)
        config_home = tmp / "config"
        config_home.mkdir()
        env = quiet_env(config_home)
        profiles = lmsprofiles.load(root, env={}, user_config=None)
        kinds = sum(1 for p in profiles.models.values() if p.type == "embedding")
        print(
            f"profile tree: {len(files)} files ({args.models} models, {kinds} of them embedding;"
            f" {args.requests} request overlays) in {root}"
        )
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        rows = [
            *bench_validate(files, root, args.repeats),
            *bench_resolve(profiles, args.repeats),
            *bench_override(profiles),
            *bench_cold_start(env, args.cold_runs),
        ]
        print_table(rows)
        print("\ne. modules imported by commands that never contact LM Studio")
        for line in check_imports(env):
            print(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
