"""``reconcile`` and ``plan`` end to end: the real CLI and the official SDK against the emulator."""

from __future__ import annotations

import json

from tests.reconcile.conftest import Host

ALL = {"coder", "embed", "qwen-chat"}


def test_fresh_host_loads_every_profile_and_records_ownership(host: Host) -> None:
    result = host.run("reconcile")
    assert result.code == 0, result.err
    assert "Plan: 3 to load, 0 to reload, 0 to reuse, 0 to unload." in result.out
    assert "Verified: the loaded instances match the profiles." in result.out
    loaded = host.loaded()
    assert set(loaded) == ALL
    assert loaded["coder"].ttl_ms == 7_200_000
    assert loaded["qwen-chat"].ttl_ms is None
    assert loaded["qwen-chat"].context_length == 16384
    assert loaded["embed"].type == "embedding"
    [state_file] = (host.state_dir / "hosts").iterdir()
    owned = json.loads(state_file.read_text())["instances"]
    assert set(owned) == ALL


def test_converged_host_is_a_no_op(host: Host) -> None:
    assert host.run("reconcile").code == 0
    before = {i: s.instance_reference for i, s in host.loaded().items()}
    again = host.run("reconcile")
    assert again.code == 0, again.err
    assert "Plan: 0 to load, 0 to reload, 3 to reuse, 0 to unload." in again.out
    assert {i: s.instance_reference for i, s in host.loaded().items()} == before
    assert host.run("plan", "--detailed-exitcode").code == 0
    document = host.run("plan", "--json").json()
    assert document["status"] == "no_changes"
    assert [a["action"] for a in document["actions"]] == ["reuse"] * 3


def test_context_length_edit_reloads_only_that_instance(host: Host) -> None:
    assert host.run("reconcile").code == 0
    before = {i: s.instance_reference for i, s in host.loaded().items()}
    host.edit("models/qwen-chat.yaml", r"contextLength: 16384", "contextLength: 8192")
    plan = host.run("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "-/+ qwen-chat" in plan.out
    assert "~ load.contextLength  16384 -> 8192  # forces reload" in plan.out
    assert "qwen-chat.yaml:5:18" in plan.out
    result = host.run("reconcile")
    assert result.code == 0, result.err
    after = host.loaded()
    assert after["qwen-chat"].context_length == 8192
    assert after["qwen-chat"].instance_reference != before["qwen-chat"]
    assert after["coder"].instance_reference == before["coder"]
    assert host.run("plan", "--detailed-exitcode").code == 0


def test_inference_only_edit_never_reloads(host: Host) -> None:
    assert host.run("reconcile").code == 0
    before = {i: s.instance_reference for i, s in host.loaded().items()}
    host.edit("models/qwen-chat.yaml", r"temperature: 0.6", "temperature: 0.1")
    host.edit("global.yaml", r"maxTokens: 1024", "maxTokens: 256")
    assert host.run("plan", "--detailed-exitcode").code == 0
    assert host.run("reconcile").code == 0
    assert {i: s.instance_reference for i, s in host.loaded().items()} == before


def test_ttl_change_is_explained_and_applied_by_reload(host: Host) -> None:
    assert host.run("reconcile").code == 0
    host.edit("models/coder.yaml", r"^ttl: 7200", "ttl: 600")
    plan = host.run("plan")
    assert "~ ttl  7200 -> 600  # forces reload: ttl cannot be changed on a loaded instance" in (
        plan.out
    )
    assert host.run("reconcile").code == 0
    assert host.loaded()["coder"].ttl_ms == 600_000
    assert host.run("plan", "--detailed-exitcode").code == 0


def test_removed_profile_is_kept_without_prune_and_unloaded_with_it(host: Host) -> None:
    assert host.run("reconcile").code == 0
    (host.profiles / "models" / "coder.yaml").unlink()
    kept = host.run("reconcile")
    assert kept.code == 0, kept.err
    assert "?   coder" in kept.out and "--prune unloads it" in kept.out
    assert "coder" in host.loaded()
    assert host.run("plan", "--prune", "--detailed-exitcode").code == 2
    pruned = host.run("reconcile", "--prune")
    assert pruned.code == 0, pruned.err
    assert "-   coder" in pruned.out
    assert set(host.loaded()) == {"embed", "qwen-chat"}
    assert host.run("reconcile", "--prune").code == 0


def test_instances_loaded_by_others_are_shown_and_never_touched(host: Host) -> None:
    host.emulator.preload("google/gemma-3-1b", "someone-elses")
    assert host.run("reconcile", "--prune").code == 0
    host.emulator.preload("qwen/qwen3-8b")  # like `lms load qwen/qwen3-8b`
    result = host.run("reconcile", "--prune")
    assert result.code == 0, result.err
    assert "?   someone-elses" in result.out
    assert "duplicate instance of qwen/qwen3-8b (managed as 'qwen-chat')" in result.out
    assert set(host.loaded()) == ALL | {"someone-elses", "qwen/qwen3-8b"}
    document = host.run("plan", "--json", "--prune").json()
    leave = {a["identifier"]: a for a in document["actions"] if a["action"] == "leave"}
    assert set(leave) == {"someone-elses", "qwen/qwen3-8b"}
    assert not any(a["owned"] for a in leave.values())


def test_foreign_instance_holding_a_profile_identifier_is_a_conflict(host: Host) -> None:
    host.emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    result = host.run("reconcile", "--prune")
    assert result.code == 4
    assert "!   qwen-chat" in result.out
    assert "qwen-chat" in result.err
    assert host.loaded()["qwen-chat"].context_length == 4096
    assert {"coder", "embed"} <= set(host.loaded())


def test_failed_load_proceeds_with_the_rest_and_the_next_run_recovers(host: Host) -> None:
    host.emulator.set_faults("qwen/qwen2.5-coder-14b", load_error="insufficient memory")
    result = host.run("reconcile")
    assert result.code == 4
    assert "error: reconcile applied its plan only in part; failed: coder" in result.err
    assert "coder: load: could not load 'coder'" in result.out
    assert "insufficient memory" in result.out
    assert set(host.loaded()) == {"embed", "qwen-chat"}
    host.emulator.clear_faults()
    again = host.run("reconcile")
    assert again.code == 0, again.err
    assert "Plan: 1 to load, 0 to reload, 2 to reuse, 0 to unload." in again.out
    assert set(host.loaded()) == ALL


def test_failed_load_in_json_mode(host: Host) -> None:
    host.emulator.set_faults("qwen/qwen2.5-coder-14b", load_error="insufficient memory")
    result = host.run("reconcile", "--json")
    assert result.code == 4
    document = result.json()
    assert document["status"] == "failed"
    [failure] = document["result"]["failures"]
    assert failure["identifier"] == "coder" and failure["action"] == "load"


def test_context_above_the_model_maximum_is_refused_before_loading(host: Host) -> None:
    host.edit("models/qwen-chat.yaml", r"contextLength: 16384", "contextLength: 65536")
    plan = host.run("plan")
    assert plan.code == 4
    assert "x   qwen-chat" in plan.out
    assert "load.contextLength 65536 exceeds the maximum of qwen/qwen3-8b (40960)" in plan.out
    assert "qwen-chat.yaml:5:18" in plan.out
    assert f"[{host.profiles / 'models' / 'qwen-chat.yaml'}:5:18]" in plan.out
    first = host.run("reconcile")
    assert first.code == 4
    assert set(host.loaded()) == {"coder", "embed"}
    assert "Reconcile of LM Studio at" in first.out and "was partial" in first.out


def test_dry_run_changes_nothing_and_exits_2(host: Host) -> None:
    result = host.run("reconcile", "--dry-run")
    assert result.code == 2
    assert "Plan: 3 to load" in result.out
    assert host.loaded() == {}
    document = host.run("reconcile", "--dry-run", "--json").json()
    assert document["status"] == "changes_pending" and document["command"] == "reconcile"


def test_json_result_document(host: Host) -> None:
    result = host.run("reconcile", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert document["format_version"] == "1"
    assert document["status"] == "applied"
    assert document["summary"]["load"] == 3
    assert sorted(s["identifier"] for s in document["result"]["steps"]) == sorted(ALL)
    assert document["result"]["verified"] is True
    assert document["result"]["after"]["reuse"] == 3
