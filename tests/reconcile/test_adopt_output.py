"""``reconcile --adopt`` names the instances it took over, as ``adopt`` does."""

from __future__ import annotations

from tests.reconcile.conftest import Host


def test_reconcile_adopt_names_the_instances_it_took_over(host: Host) -> None:
    host.emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    host.emulator.preload("text-embedding-nomic-embed-text-v1.5", "embed", context_length=2048)
    result = host.run("reconcile", "--adopt")
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    done = lines.index(next(line for line in lines if line.startswith("Reconciled LM Studio")))
    assert lines[done + 1] == (
        "Adopted 2, now managed by lmsprofiles: embed, qwen-chat (reloaded to fit its profile)."
    )
    again = host.run("reconcile", "--adopt")
    assert "Adopted" not in again.out
