"""``plan`` while a reconcile of the same server runs (and holds the lock) does not call the
running reconcile's steps interrupted: it says a run is in progress. Once that run is killed,
its unsettled steps are interrupted ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from lmsprofiles._reconcile._failpoint import ENV
from tests.reconcile.conftest import Host

REPO = Path(__file__).resolve().parents[2]


def test_plan_during_a_reconcile_says_it_is_in_progress(host: Host) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    env[ENV] = "loaded:qwen-chat"
    argv = ["--profiles", str(host.profiles), "--host", host.emulator.host]
    argv += ["--state-dir", str(host.state_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "lmsprofiles", "reconcile", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == "failpoint loaded qwen-chat\n"
        during = host.run("plan")
        assert during.code == 0, during.out + during.err
        assert "interrupted" not in during.out
        assert f"another lmsprofiles run is in progress on this server: pid {process.pid}, " in (
            during.out
        )
        assert "reconcile since" in during.out
        assert "qwen-chat: a load of the run in progress (started " in during.out
        assert "has completed" in during.out
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    after = host.run("plan")
    assert "in progress" not in after.out
    assert "qwen-chat: an interrupted load (started " in after.out
