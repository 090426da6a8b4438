"""The benchmarks keep working: the tree generator and the speed bench run on a tiny tree,
the fleet bench on two small hosts.

They print figures and assert nothing about time; this only checks that they run and that
the generated tree is a valid profile set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lmsprofiles

REPO = Path(__file__).resolve().parent.parent


def bench(script: str, *argv: str) -> list[str]:
    """The lines ``bench/SCRIPT ARGV`` prints; it must exit 0."""
    command = [sys.executable, f"bench/{script}", *argv]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_the_generator_writes_a_valid_tree(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    done = subprocess.run(
        [sys.executable, "bench/generate.py", str(root), "--models", "30", "--requests", "4"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith(f"wrote 35 files (0.0 MB) in {root}")
    profiles = lmsprofiles.load(root, env={}, user_config=None)
    assert len(profiles.models) == 30 and len(profiles.requests) == 4
    assert sum(p.type == "embedding" for p in profiles.models.values()) == 1
    assert all(len(p.requests) == 4 for p in profiles.models.values() if p.type == "llm")
    again = subprocess.run(
        [sys.executable, "bench/generate.py", str(root)], cwd=REPO, capture_output=True, text=True
    )
    assert again.returncode == 2 and "exists" in again.stderr


def test_the_speed_bench_runs_on_a_tiny_tree() -> None:
    argv = ["--models", "3", "--requests", "2", "--runs", "1", "--scaling", "1,2"]
    printed = bench("bench_speed.py", *argv, "--scaling-runs", "1")
    rows = [line.split("  ")[0] for line in printed]
    for row in ("1. cold validate", "2. warm validate", "3. warm validate, 1 model edited"):
        assert row in rows
    assert "5. peak memory, cold validate, 2 models" in rows
    assert any(row.startswith("4. cold cost per model file") for row in rows)
    assert "6. lmsprofiles --help" in rows and any(r.startswith("7. validate") for r in rows)


def test_the_fleet_bench_runs_on_two_small_hosts() -> None:
    argv = ["--hosts", "2", "--instances", "2", "--latency-ms", "0", "--repeats", "1"]
    lines = [line.strip() for line in bench("bench_fleet.py", *argv, "--commands", "1")]
    assert lines[0].startswith("2 hosts x 2 instances, 0 ms per message, converged")
    assert lines[1] == "round trips of one host's state read: 4 calls"  # 2 lists, 2 configs
    assert any(line.startswith("baseline: reconcile --hosts h1 (no-op)") for line in lines)
    assert any(line.startswith("fan-out:  reconcile --all-hosts (no-op)") for line in lines)
    assert any(line.startswith("CLI CPU of each further host: ") for line in lines)
    assert any(line.startswith("as commands (a new process per run") for line in lines)
    assert lines[-1].startswith("ratio fan-out / baseline, wall time: x")
