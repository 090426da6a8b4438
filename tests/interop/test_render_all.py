"""`render --all` and `--hide-defaults`: every model at once, without the unset fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lmsprofiles._cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles"


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["render", "--profiles", str(EXAMPLE), *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_render_all_prints_each_model_as_render_model_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = _out(capsys, "--all")
    documents = list(YAML(typ="safe").load_all(stream))
    assert [d["identifier"] for d in documents] == ["coder", "embed", "qwen-chat"]
    for document in documents:
        single = YAML(typ="safe").load(_out(capsys, document["identifier"]))
        assert document == single


def test_render_all_as_json_is_a_list_and_applies_a_request_to_llms_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    documents = json.loads(_out(capsys, "--all", "--format", "json", "--request", "creative"))
    by_id = {d["identifier"]: d for d in documents}
    assert by_id["qwen-chat"]["request"] == "creative"
    assert "request" not in by_id["embed"]
    single = json.loads(_out(capsys, "qwen-chat", "--request", "creative", "--format", "json"))
    assert by_id["qwen-chat"] == single


def test_render_all_applies_set_where_the_field_exists(capsys: pytest.CaptureFixture[str]) -> None:
    documents = json.loads(_out(capsys, "--all", "--format", "json", "--set", "temperature=0.1"))
    by_id = {d["identifier"]: d for d in documents}
    assert by_id["coder"]["inference"]["temperature"] == 0.1
    assert "inference" not in by_id["embed"]


def test_hide_defaults_leaves_out_only_the_fields_nobody_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = _out(capsys, "qwen-chat", "--show-origin")
    hidden = _out(capsys, "qwen-chat", "--show-origin", "--hide-defaults")
    assert "# LM Studio default\n" in full
    assert "# LM Studio default\n" not in hidden
    assert [line for line in full.splitlines() if not line.endswith("# LM Studio default")] == (
        hidden.splitlines()
    )
    assert "ttl: null  # no idle expiry (unset by" in hidden  # an explicit unset stays


def test_hide_defaults_in_json_drops_the_origins_of_unset_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["qwen-chat", "--show-origin", "--format", "json"]
    full = json.loads(_out(capsys, *argv))["origins"]
    hidden = json.loads(_out(capsys, *argv, "--hide-defaults"))["origins"]
    assert {k: v for k, v in full.items() if v != "LM Studio default"} == hidden


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--all", "coder"], "give MODEL or --all (not both)"),
        ([], "give MODEL or --all (not both)"),
        (["coder", "--hide-defaults"], "--hide-defaults needs --show-origin"),
    ],
)
def test_render_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--profiles", str(EXAMPLE), *argv]) == 2
    assert message in capsys.readouterr().err
