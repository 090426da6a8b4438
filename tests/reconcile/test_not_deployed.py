"""Instances of model profiles that are not deployed here: ``deploy: false`` (kept for the
application, never unloaded by reconcile) and models an inventory host does not run (unloaded
with ``--prune``, with that reason rather than "its profile is gone")."""

from __future__ import annotations

import json

from tests.reconcile.conftest import Host


def test_deploy_false_keeps_the_instance_loaded_even_with_prune(host: Host) -> None:
    assert host.run("reconcile").code == 0
    coder = host.profiles / "models" / "coder.yaml"
    coder.write_text(coder.read_text() + "deploy: false\n")
    plan = host.run("plan", "--prune", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "?   coder" in plan.out
    assert "its profile has deploy: false" in plan.out
    assert "profile is gone" not in plan.out
    pruned = host.run("reconcile", "--prune")
    assert pruned.code == 0, pruned.out + pruned.err
    assert "coder" in host.loaded()
    document = host.run("plan", "--prune", "--json").json()
    (action,) = [a for a in document["actions"] if a["identifier"] == "coder"]
    assert action["action"] == "leave"
    assert "deploy: false" in action["message"]


def test_an_instance_the_inventory_host_does_not_run_is_unloaded_with_that_reason(
    host: Host,
) -> None:
    assert host.run("reconcile").code == 0
    (host.profiles / "hosts.yaml").write_text(
        json.dumps(
            {
                "hosts": {
                    "box": {
                        "address": host.emulator.host,
                        "runs": {"models": ["qwen-chat", "embed"]},
                    }
                }
            }
        )
    )
    kept = host.run("plan")
    assert kept.code == 0, kept.out + kept.err
    assert "host 'box' does not run it (--prune unloads it)" in kept.out
    pruned = host.run("reconcile", "--prune")
    assert pruned.code == 0, pruned.out + pruned.err
    assert "-   coder" in pruned.out
    assert "host 'box' does not run it" in pruned.out
    assert "profile is gone" not in pruned.out
    assert set(host.loaded()) == {"embed", "qwen-chat"}
