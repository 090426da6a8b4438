"""Benchmark: a no-op ``reconcile --all-hosts`` of 4 hosts against one host's no-op reconcile.

Each host is an emulator in a process of its own (``lmsprofiles emulator --latency-ms MS``), as
each LM Studio host is a machine of its own: every message an emulator sends is held back MS
milliseconds, as over a slow link, so round trips cost what they would on a network. Each
host has the same INSTANCES model profiles loaded and converged (a first ``reconcile
--all-hosts`` loads them). Measured in this process, through the CLI entry point, one run of
each after the other (so that a change in the machine's load touches both alike), as the
median of several runs:

* baseline: ``reconcile --hosts h1``, the no-op reconcile of one host;
* fan-out: ``reconcile --all-hosts``, the no-op reconcile of every host.

Goal: fan-out / baseline <= 1.5, in wall time. Beside the wall time of each, it prints the
CPU time the CLI spent (this process: the SDK's clients and all their threads) and the time
it waited beyond that, the emulators' CPU time (Linux), and the CPU time each further host
adds. Also printed: the round trips one host's reconcile waits for (the state read, counted
by the client the CLI uses), against the round trips reading the same state one call after
the other would wait for; and, for reference, the same two commands as a user runs them, a
new process each time (interpreter start-up and imports included). Asserts nothing about
time. Run: ``.venv/bin/python bench/bench_fleet.py [--help]``.
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lmsprofiles._cli import main
from lmsprofiles._reconcile._loop import HostClient

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
def emulators(count: int, latency_ms: float) -> Iterator[list[tuple[int, str]]]:
    """``count`` emulators, each in a process of its own; yields their process ids and
    addresses once every one listens."""
    command = [sys.executable, "-m", "lmsprofiles", "emulator", "--port", "0"]
    command += ["--latency-ms", str(latency_ms)]
    processes: list[subprocess.Popen[str]] = []
    try:
        for _ in range(count):
            processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
        found = []
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("listening on "):
                raise SystemExit(f"an emulator did not start: {line!r}")
            found.append((process.pid, line.removeprefix("listening on ").strip()))
        yield found
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """CPU time used so far by the processes ``pids``, every thread of them (Linux only)."""
    total = 0
    try:
        for pid in pids:
            for task in Path(f"/proc/{pid}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])  # nanoseconds
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def reconcile(profiles: Path, state_dir: Path, *selection: str) -> None:
    """``lmsprofiles reconcile SELECTION`` in this process; it must exit 0."""
    argv = ["reconcile", "--profiles", str(profiles), "--state-dir", str(state_dir), *selection]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(argv)
    if code != 0:
        raise SystemExit(f"reconcile {' '.join(selection)} exited {code}:\n{out.getvalue()}")


def command(profiles: Path, state_dir: Path, *selection: str) -> float:
    """``lmsprofiles reconcile SELECTION`` as a new process; its wall time in seconds."""
    argv = [sys.executable, "-m", "lmsprofiles", "reconcile", "--profiles", str(profiles)]
    argv += ["--state-dir", str(state_dir), *selection]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"reconcile {' '.join(selection)} exited {done.returncode}")
    return wall


def round_trips(host: str) -> tuple[int, int, int]:
    """One host's state read as reconcile makes it: calls, round trips waited for (connecting
    included), and round trips of connecting alone."""
    with HostClient(host) as client:
        connecting = client.serial_round_trips
        client.observe()
        return client.round_trips, client.serial_round_trips, connecting


@dataclass
class Runs:
    """Figures of several runs of one command, in seconds."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    emulators: list[float | None] = field(default_factory=list)
    """CPU time of the emulators during each run; None where it could not be read."""

    def emulators_median(self) -> float | None:
        known = [figure for figure in self.emulators if figure is not None]
        return statistics.median(known) if known and len(known) == len(self.emulators) else None


def timed(runs: Runs, pids: Sequence[int], profiles: Path, state_dir: Path, *sel: str) -> None:
    """One in-process run of ``reconcile SEL``, its figures appended to ``runs``."""
    emulators_before = cpu_seconds(pids)
    cpu_before = time.process_time()
    start = time.perf_counter()
    reconcile(profiles, state_dir, *sel)
    runs.wall.append(time.perf_counter() - start)
    runs.cpu.append(time.process_time() - cpu_before)
    emulators_after = cpu_seconds(pids)
    if emulators_before is None or emulators_after is None:
        runs.emulators.append(None)
    else:
        runs.emulators.append(emulators_after - emulators_before)


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds, right-aligned; n/a for None."""
    return "     n/a" if seconds is None else f"{seconds * 1000:8.1f}"


def bench(hosts: int, instances: int, latency_ms: float, repeats: int, commands: int) -> float:
    """Set the hosts up, measure, print the figures; return the ratio of wall times."""
    with tempfile.TemporaryDirectory() as tmp, emulators(hosts, latency_ms) as found:
        pids = [pid for pid, _ in found]
        profiles = write_profiles(Path(tmp), instances, [address for _, address in found])
        state_dir = Path(tmp) / "state"
        start = time.perf_counter()
        reconcile(profiles, state_dir, "--all-hosts")
        setup = time.perf_counter() - start
        reconcile(profiles, state_dir, "--hosts", "h1")  # warm: imports, caches
        one, every = Runs(), Runs()
        for _ in range(repeats):
            timed(one, pids, profiles, state_dir, "--hosts", "h1")
            timed(every, pids, profiles, state_dir, "--all-hosts")
        one_command: list[float] = []
        every_command: list[float] = []
        for _ in range(commands):
            one_command.append(command(profiles, state_dir, "--hosts", "h1"))
            every_command.append(command(profiles, state_dir, "--all-hosts"))
        calls, waited, connecting = round_trips(found[0][1])
    wall_one, wall_every = statistics.median(one.wall), statistics.median(every.wall)
    cpu_one, cpu_every = statistics.median(one.cpu), statistics.median(every.cpu)
    ratio = wall_every / wall_one
    one_by_one = calls + connecting  # each call waited for in turn
    print(
        f"{hosts} hosts x {instances} instances, {latency_ms:g} ms per message, converged "
        f"(loaded in {setup:.1f} s); one emulator process per host; median of {repeats} runs "
        "of each, one after the other"
    )
    print(f"  round trips of one host's state read: {calls} calls")
    print(
        f"    waited for: {waited} (connecting {connecting}, reading {waited - connecting}); "
        f"one call after the other: {one_by_one}, {hosts} hosts in turn: {hosts * one_by_one}"
    )
    print("                                               wall   CLI CPU  waiting  emulators")
    for label, runs, wall, cpu in (
        ("baseline: reconcile --hosts h1 (no-op) ", one, wall_one, cpu_one),
        ("fan-out:  reconcile --all-hosts (no-op)", every, wall_every, cpu_every),
    ):
        emulators_cpu = runs.emulators_median()
        waiting = max(0.0, wall - cpu)
        print(f"  {label} {ms(wall)} {ms(cpu)} {ms(waiting)} {ms(emulators_cpu)}  ms")
    if hosts > 1:
        per_host = (cpu_every - cpu_one) / (hosts - 1)
        print(
            f"  CLI CPU of each further host: {per_host * 1000:.1f} ms; the hosts share one "
            f"process, so it adds up: fan-out CLI CPU / baseline x{cpu_every / cpu_one:.2f}"
        )
    if commands:
        wall_one_command = statistics.median(one_command)
        wall_every_command = statistics.median(every_command)
        print(
            f"  as commands (a new process per run, start-up included; median of {commands}): "
            f"baseline {wall_one_command * 1000:.0f} ms, fan-out {wall_every_command * 1000:.0f} "
            f"ms, x{wall_every_command / wall_one_command:.2f} (for reference only)"
        )
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"  ratio fan-out / baseline, wall time: x{ratio:.2f}  (goal <= x{GOAL:g}: {verdict})")
    return ratio


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=4, help="emulators (default 4)")
    parser.add_argument("--instances", type=int, default=25, help="per host (default 25)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="default 20")
    parser.add_argument("--repeats", type=int, default=9, help="runs per figure (default 9)")
    parser.add_argument(
        "--commands", type=int, default=3, help="runs as new processes (default 3; 0: none)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    os.environ.pop("LMSPROFILES_HOST", None)
    bench(args.hosts, args.instances, args.latency_ms, args.repeats, args.commands)
