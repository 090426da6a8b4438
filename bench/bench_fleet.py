"""Benchmark: a no-op ``reconcile --all-hosts`` of 4 hosts against one host's no-op reconcile.

The hosts are emulators in one separate process (``lmsprofiles emulator --count N
--latency-ms MS``): every message an emulator sends is held back MS milliseconds, as over a
slow link, so round trips cost what they would on a network. Each host has the same
INSTANCES model profiles loaded and converged (a first ``reconcile --all-hosts`` loads
them). Measured in this process, through the CLI entry point, each as the median of several
runs:

* baseline: ``reconcile --hosts h1``, the no-op reconcile of one host;
* fan-out: ``reconcile --all-hosts``, the no-op reconcile of every host.

Also printed: the round trips one host's reconcile waits for (the state read, counted by the
client the CLI uses), against the round trips reading the same state one call after the other
would wait for. Goal: fan-out / baseline <= 1.5. Prints figures and the ratio; asserts
nothing about time. Run: ``.venv/bin/python bench/bench_fleet.py [--help]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lmsprofiles._cli import main
from lmsprofiles._reconcile._client import LMStudioClient

GOAL = 1.5


def write_profiles(root: Path, instances: int, addresses: list[str]) -> Path:
    """``instances`` model profiles of the smallest catalog model, and a hosts.yaml."""
    profiles = root / "profiles"
    (profiles / "models").mkdir(parents=True)
    (profiles / "global.yaml").write_text("load:\n  flashAttention: true\nttl: null\n")
    for i in range(instances):
        (profiles / "models" / f"m{i:03d}.yaml").write_text(
            f"model: google/gemma-3-1b\nload:\n  contextLength: {2048 + 16 * i}\n"
        )
    hosts = "".join(f"  h{n + 1}:\n    address: {address}\n" for n, address in enumerate(addresses))
    (profiles / "hosts.yaml").write_text("hosts:\n" + hosts)
    return profiles


@contextlib.contextmanager
def emulators(count: int, latency_ms: float) -> Iterator[list[str]]:
    """``count`` emulators in one process; yields their addresses."""
    command = [sys.executable, "-m", "lmsprofiles", "emulator", "--port", "0"]
    command += ["--count", str(count), "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(count)]
        if not all(line.startswith("listening on ") for line in lines):
            raise SystemExit(f"the emulators did not start: {lines}")
        yield [line.removeprefix("listening on ").strip() for line in lines]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def reconcile(profiles: Path, state_dir: Path, *selection: str) -> None:
    """``lmsprofiles reconcile SELECTION`` in this process; it must exit 0."""
    argv = ["reconcile", "--profiles", str(profiles), "--state-dir", str(state_dir), *selection]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(argv)
    if code != 0:
        raise SystemExit(f"reconcile {' '.join(selection)} exited {code}:\n{out.getvalue()}")


def round_trips(address: str) -> tuple[int, int, int]:
    """One host's state read as reconcile makes it: calls, round trips waited for (connecting
    included), and round trips of connecting alone."""
    with LMStudioClient(address) as client:
        connecting = client.serial_round_trips
        client.survey()
        return client.round_trips, client.serial_round_trips, connecting


def timed(repeats: int, run: Callable[[], None]) -> float:
    """Median wall time in seconds of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(hosts: int, instances: int, latency_ms: float, repeats: int) -> float:
    """Set the hosts up, measure, print the figures; return the ratio."""
    with tempfile.TemporaryDirectory() as tmp, emulators(hosts, latency_ms) as addresses:
        profiles = write_profiles(Path(tmp), instances, addresses)
        state_dir = Path(tmp) / "state"
        start = time.perf_counter()
        reconcile(profiles, state_dir, "--all-hosts")
        setup = time.perf_counter() - start
        reconcile(profiles, state_dir, "--hosts", "h1")  # warm: imports, caches
        one = timed(repeats, lambda: reconcile(profiles, state_dir, "--hosts", "h1"))
        every = timed(repeats, lambda: reconcile(profiles, state_dir, "--all-hosts"))
        calls, waited, connecting = round_trips(addresses[0])
    ratio = every / one
    one_by_one = calls + connecting  # each call waited for in turn
    print(
        f"{hosts} hosts x {instances} instances, {latency_ms:g} ms per message, converged "
        f"(loaded in {setup:.1f} s); median of {repeats} runs"
    )
    print(f"  round trips of one host's state read: {calls} calls")
    print(
        f"    waited for: {waited} (connecting {connecting}, reading {waited - connecting}); "
        f"one call after the other: {one_by_one}, {hosts} hosts in turn: {hosts * one_by_one}"
    )
    print(f"  baseline: reconcile --hosts h1 (no-op):    {one * 1000:8.1f} ms")
    print(f"  fan-out:  reconcile --all-hosts (no-op):   {every * 1000:8.1f} ms")
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"  ratio fan-out / baseline: x{ratio:.2f}  (goal <= x{GOAL:g}: {verdict})")
    return ratio


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=4, help="emulators (default 4)")
    parser.add_argument("--instances", type=int, default=25, help="per host (default 25)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="default 20")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (default 5)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    os.environ.pop("LMSPROFILES_HOST", None)
    bench(args.hosts, args.instances, args.latency_ms, args.repeats)
