"""Benchmark: ``reconcile`` of a converged host against a baseline in the same run.

The host is the bundled emulator with N instances (default 50) that a first reconcile
loaded. The baseline is what any script must do to read that state with the SDK:
``list_loaded()`` on /llm and /embedding plus one ``get_load_config()`` per instance.
Measured, each as the median of several repetitions:

* baseline: wall time and SDK round trips;
* reconcile's state read + plan (``HostClient.observe`` + ``make_plan``; a converged host
  needs no list of downloaded models);
* the whole CLI ``reconcile`` (profiles loaded and validated, lock, state file, output).

Prints figures and ratios; asserts nothing about time. Run:
``.venv/bin/python bench/bench_reconcile.py [N] [REPEATS]``.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lmstudio

from lmsprofiles._cli import main
from lmsprofiles._reconcile._desired import desired_instances
from lmsprofiles._reconcile._loop import HostClient
from lmsprofiles._reconcile._plan import make_plan
from lmsprofiles._reconcile._state import OwnershipStore
from lmsprofiles.emulator import Emulator


def write_profiles(root: Path, count: int) -> None:
    """A global file and ``count`` model profiles of the smallest catalog model."""
    (root / "models").mkdir(parents=True)
    (root / "global.yaml").write_text("load:\n  flashAttention: true\nttl: null\n")
    for i in range(count):
        (root / "models" / f"m{i:03d}.yaml").write_text(
            f"model: google/gemma-3-1b\nload:\n  contextLength: {2048 + 16 * i}\n"
        )


def baseline(host: str) -> int:
    """The SDK's own state read; returns its round trips."""
    trips = 0
    with lmstudio.Client(host) as client:
        for session in (client.llm, client.embedding):
            handles = session.list_loaded()
            trips += 1
            for handle in handles:
                handle.get_load_config()
                trips += 1
    return trips


def state_read(host: str, profiles: Path, state_dir: Path) -> int:
    """Reconcile's state read and plan; returns its round trips."""
    desired = desired_instances(profiles)
    with HostClient(host) as client:
        state = OwnershipStore(state_dir, client.host).read()
        plan = make_plan(desired, client.observe(), state.records, intents=state.intents)
        assert not plan.changes_pending, "host is not converged"
        return client.round_trips


def cli_reconcile(host: str, profiles: Path, state_dir: Path) -> int:
    """The whole ``lmsprofiles reconcile`` command; returns its exit code."""
    argv = ["reconcile", "--profiles", str(profiles), "--host", host]
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--state-dir", str(state_dir)])
    assert code == 0, code
    return code


def timed(repeats: int, run: Callable[[], int]) -> tuple[float, int]:
    """Median wall time in seconds over ``repeats`` runs, and the last run's result."""
    times = []
    result = 0
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main_bench(count: int, repeats: int) -> None:
    """Set up a converged host with ``count`` instances and print the comparison."""
    with tempfile.TemporaryDirectory() as tmp, Emulator().running() as emu:
        emu.memory_budget = 1 << 50
        profiles, state_dir = Path(tmp) / "profiles", Path(tmp) / "state"
        write_profiles(profiles, count)
        cli_reconcile(emu.host, profiles, state_dir)
        assert len(emu.instances()) == count
        base_time, base_trips = timed(repeats, lambda: baseline(emu.host))
        read_time, read_trips = timed(repeats, lambda: state_read(emu.host, profiles, state_dir))
        cli_time, _ = timed(repeats, lambda: cli_reconcile(emu.host, profiles, state_dir))
    print(f"converged host with {count} instances, median of {repeats} runs")
    print(
        f"  baseline (list_loaded + get_load_config each): {base_time * 1000:8.1f} ms, "
        f"{base_trips} round trips"
    )
    print(
        f"  reconcile state read + plan:                   {read_time * 1000:8.1f} ms, "
        f"{read_trips} round trips  (x{read_time / base_time:.2f} time, "
        f"x{read_trips / base_trips:.2f} round trips)"
    )
    print(
        f"  lmsprofiles reconcile (whole CLI run):         {cli_time * 1000:8.1f} ms  "
        f"(x{cli_time / base_time:.2f} time)"
    )


if __name__ == "__main__":
    main_bench(
        int(sys.argv[1]) if len(sys.argv) > 1 else 50,
        int(sys.argv[2]) if len(sys.argv) > 2 else 5,
    )
