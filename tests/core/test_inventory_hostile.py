"""Careless and hostile inventories: every problem is reported at its place with exit 3,
never a traceback, a hang or a hint that names a variable that does not exist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from lmsprofiles._cli import main
from tests.conftest import WriteTree

MODELS = {
    "models/chat.yaml": "model: qwen/qwen3-8b\n",
    "models/embed.yaml": "model: nomic\ntype: embedding\n",
}
HOSTS = "hosts:\n  gpu-a:\n    address: 127.0.0.1:1\n"


def problems(root: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env=env, user_config=None)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("variable", "hint"),
    [
        # settings of lmsprofiles itself (LMSPROFILES_TIMEOUT) are no fields of a host or model
        (
            "LMSPROFILES_HOSTS__GPU_A__TIMEOUT",
            "name a field after LMSPROFILES_HOSTS__GPU_A__: ADDRESS, LABELS, RUNS__MODELS, "
            "RUNS__LABELS, LOAD__<FIELD>, INFERENCE__<FIELD>, TTL",
        ),
        (
            "LMSPROFILES_HOSTS__GPU_A__MODELS__CHAT__HOST",
            "name a field after LMSPROFILES_HOSTS__GPU_A__MODELS__CHAT__: LOAD__<FIELD>, "
            "INFERENCE__<FIELD>, TTL",
        ),
        (
            "LMSPROFILES_MODELS__CHAT__HOSTT",
            "name a field after LMSPROFILES_MODELS__CHAT__: LOAD__<FIELD>, INFERENCE__<FIELD>, TTL",
        ),
        ("LMSPROFILES_MODELS__CHAT__TTTL", "did you mean LMSPROFILES_MODELS__CHAT__TTL?"),
        ("LMSPROFILES_HOSTS__GPU_A__ADRESS", "did you mean LMSPROFILES_HOSTS__GPU_A__ADDRESS?"),
        (
            "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGHT",
            "did you mean LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGTH?",
        ),
        ("LMSPROFILES_TIMEOUTT", "did you mean LMSPROFILES_TIMEOUT?"),
    ],
)
def test_a_scoped_variable_is_never_told_to_be_what_it_is_not(
    write_tree: WriteTree, variable: str, hint: str
) -> None:
    root = write_tree({**MODELS, "hosts.yaml": HOSTS})
    [found] = problems(root, {variable: "1"})
    assert found == f"{variable}: unknown variable; {hint}"
    for control in ("HOST", "TIMEOUT", "STATE_DIR", "PROFILES", "MAX_"):
        assert f"did you mean {variable.rsplit('__', 1)[0]}__{control}" not in found


@pytest.mark.parametrize("text", ["", "hosts:\n", "hosts: {}\n", "# no hosts yet\n"])
@pytest.mark.parametrize("option", [["--all-hosts"], ["--hosts", "gpu-a"]])
def test_an_inventory_without_hosts_is_not_called_missing(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], text: str, option: list[str]
) -> None:
    root = write_tree({**MODELS, "hosts.yaml": text})
    assert main(["plan", *option, "--profiles", str(root)]) == 3
    err = capsys.readouterr().err
    assert f"no hosts to run on: {root / 'hosts.yaml'} has no hosts (docs/fleet.md)" in err
    assert "there is no hosts.yaml" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", ["directory", "fifo", "dangling link"])
def test_a_hosts_yaml_that_is_no_file(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    root = write_tree(MODELS)
    target = root / "hosts.yaml"
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # reading it would block: it is refused unread
    else:
        target.symlink_to(root / "nowhere.yaml")
    for argv in (["validate"], ["plan", "--all-hosts"]):
        assert main([*argv, "--profiles", str(root)]) == 3
        err = capsys.readouterr().err
        assert err.startswith(f"{target}: cannot read: "), err
        assert "Traceback" not in err


def test_runs_models_written_as_one_string_is_one_problem(write_tree: WriteTree) -> None:
    hosts = "hosts:\n  gpu-a:\n    address: 127.0.0.1:1\n    runs: {models: chat}\n"
    root = write_tree({**MODELS, "hosts.yaml": hosts})
    assert problems(root, {}) == [
        f"{root / 'hosts.yaml'}:4:20: hosts.gpu-a.runs.models: must be a list of non-empty "
        "strings (got the string 'chat')"
    ]


@pytest.mark.parametrize(
    "runs", ["{}", "{labels: {}}", "{models: null}", "{labels: {}, models: null}"]
)
def test_runs_that_selects_nothing_by_accident_is_a_problem(
    write_tree: WriteTree, runs: str
) -> None:
    hosts = f"hosts:\n  gpu-a:\n    address: 127.0.0.1:1\n    runs: {runs}\n"
    root = write_tree({**MODELS, "hosts.yaml": hosts})
    [found] = problems(root, {})
    assert found == (
        f"{root / 'hosts.yaml'}:4:11: hosts.gpu-a.runs: selects no model; write "
        "`runs: {models: []}` for a host that runs none, or leave runs out for every model"
    )


def test_a_host_that_runs_no_model_on_purpose(write_tree: WriteTree) -> None:
    hosts = "hosts:\n  gpu-a:\n    address: 127.0.0.1:1\n    runs: {models: []}\n"
    profiles = lmsprofiles.load(write_tree({**MODELS, "hosts.yaml": hosts}), user_config=None)
    assert profiles.hosts["gpu-a"].models == ()


def test_an_address_clash_made_by_a_variable_names_it(write_tree: WriteTree) -> None:
    hosts = "hosts:\n  a:\n    address: 127.0.0.1:1\n  b:\n    address: localhost:2\n"
    root = write_tree({**MODELS, "hosts.yaml": hosts})
    [found] = problems(root, {"LMSPROFILES_HOSTS__A__ADDRESS": "127.0.0.1:2"})
    assert found == (
        f"{root / 'hosts.yaml'}:5:14: hosts.b.address: localhost:2 is the same LM Studio "
        "server as host 'a' (127.0.0.1:2, set by LMSPROFILES_HOSTS__A__ADDRESS); give each "
        "server one entry"
    )
