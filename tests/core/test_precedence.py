"""Precedence: every adjacent pair of layers, on real files, variables and call-site values.

Resolutions are for the host ``box`` of ``hosts.yaml``, so the host layers take part.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

import lmsprofiles
from lmsprofiles._profiles import PRECEDENCE
from tests.conftest import WriteTree

# How each layer sets inference.temperature (files, variables or call-site overrides).
VALUES = {name: round(0.1 * (i + 1), 1) for i, name in enumerate(PRECEDENCE)}


def _setup(
    write_tree: WriteTree, tmp_path: Path, layers: set[str]
) -> tuple[Any, Any, dict[str, Any]]:
    files = {
        "models/chat.yaml": "model: qwen/qwen3-8b\n",
        "requests/creative.yaml": "description: d\n",
    }
    temp = "inference:\n  temperature: {}\n"
    if "global" in layers:
        files["global.yaml"] = temp.format(VALUES["global"])
    if "model" in layers:
        files["models/chat.yaml"] += temp.format(VALUES["model"])
    if "request" in layers:
        files["requests/creative.yaml"] += temp.format(VALUES["request"])
    if "model-request" in layers:
        files["models/chat.yaml"] += "requests:\n  creative:\n    inference:\n"
        files["models/chat.yaml"] += f"      temperature: {VALUES['model-request']}\n"
    files["hosts.yaml"] = "hosts:\n  box:\n    address: localhost:1234\n"
    if "host" in layers:
        files["hosts.yaml"] += f"    inference: {{temperature: {VALUES['host']}}}\n"
    if "host-model" in layers:
        files["hosts.yaml"] += "    models:\n      chat:\n"
        files["hosts.yaml"] += f"        inference: {{temperature: {VALUES['host-model']}}}\n"
    root = write_tree(files)
    user = tmp_path / "user-global.yaml"
    user.write_text(temp.format(VALUES["user"]) if "user" in layers else "")
    env = {}
    if "env" in layers:
        env["LMSPROFILES_INFERENCE__TEMPERATURE"] = str(VALUES["env"])
    if "env-model" in layers:
        env["LMSPROFILES_MODELS__CHAT__INFERENCE__TEMPERATURE"] = str(VALUES["env-model"])
    if "env-host" in layers:
        env["LMSPROFILES_HOSTS__BOX__INFERENCE__TEMPERATURE"] = str(VALUES["env-host"])
    if "env-host-model" in layers:
        name = "LMSPROFILES_HOSTS__BOX__MODELS__CHAT__INFERENCE__TEMPERATURE"
        env[name] = str(VALUES["env-host-model"])
    call_site = {"temperature": VALUES["call-site"]} if "call-site" in layers else {}
    return root, user, {"env": env, "call_site": call_site}


PAIRS = list(itertools.pairwise(PRECEDENCE))


@pytest.mark.parametrize(("lower", "higher"), PAIRS, ids=[f"{a}<{b}" for a, b in PAIRS])
def test_higher_layer_wins(write_tree: WriteTree, tmp_path: Path, lower: str, higher: str) -> None:
    root, user, extra = _setup(write_tree, tmp_path, {lower, higher})
    profiles = lmsprofiles.load(root, env=extra["env"], user_config=user)
    cfg = profiles.resolve("chat", request="creative", host="box", **extra["call_site"])
    assert cfg.inference["temperature"] == VALUES[higher]


@pytest.mark.parametrize("only", PRECEDENCE)
def test_each_layer_alone_takes_effect_and_is_named_as_origin(
    write_tree: WriteTree, tmp_path: Path, only: str
) -> None:
    root, user, extra = _setup(write_tree, tmp_path, {only})
    profiles = lmsprofiles.load(root, env=extra["env"], user_config=user)
    cfg = profiles.resolve("chat", request="creative", host="box", **extra["call_site"])
    assert cfg.inference["temperature"] == VALUES[only]
    origin = cfg.origin("inference.temperature")
    kind = {"env": "env", "env-model": "env", "env-host": "env", "env-host-model": "env"}
    expected_kind = (kind | {"call-site": "call-site"}).get(only, "file")
    assert origin.kind == expected_kind


def test_full_stack_order_is_the_documented_list(write_tree: WriteTree, tmp_path: Path) -> None:
    root, user, extra = _setup(write_tree, tmp_path, set(PRECEDENCE))
    profiles = lmsprofiles.load(root, env=extra["env"], user_config=user)
    cfg = profiles.resolve("chat", request="creative", host="box")
    assert cfg.inference["temperature"] == VALUES["env-host-model"]
    without_host = profiles.resolve("chat", request="creative")
    assert without_host.inference["temperature"] == VALUES["env-model"]
    cfg = profiles.resolve("chat", request="creative", host="box", **extra["call_site"])
    assert cfg.inference["temperature"] == VALUES["call-site"]
    assert str(cfg.origin("inference.temperature")) == "call-site"


def test_user_config_comes_from_platform_config_dir(write_tree: WriteTree, tmp_path: Path) -> None:
    from lmsprofiles._profiles import user_config_file

    user_file = user_config_file()
    assert str(user_file).startswith(str(tmp_path.parent)) or "xdg" in str(user_file)
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text("load:\n  contextLength: 1234\n")
    root = write_tree({"models/chat.yaml": "model: m\n"})
    cfg = lmsprofiles.load(root).resolve("chat")
    assert cfg.load == {"contextLength": 1234}
    assert cfg.origin("load.contextLength").source == str(user_file)


def test_merge_tags_work_in_every_file_layer(write_tree: WriteTree, tmp_path: Path) -> None:
    user = tmp_path / "user.yaml"
    user.write_text(
        "inference:\n  stopStrings: [u]\nload:\n  gpu: {ratio: 0.5, mainGpu: 1, splitStrategy: favorMainGpu}\n"
    )
    root = write_tree(
        {
            "global.yaml": "inference:\n  stopStrings: !append [g]\nload:\n  gpu: !replace {ratio: 0.25}\n",
            "models/chat.yaml": "model: m\ninference:\n  stopStrings: !append [m]\nload:\n  gpu:\n    ratio: !reset\n",
            "requests/r.yaml": "inference:\n  stopStrings: !append [r]\n",
        }
    )
    profiles = lmsprofiles.load(root, user_config=user)
    cfg = profiles.resolve("chat", request="r")
    assert cfg.inference["stopStrings"] == ["u", "g", "m", "r"]
    assert cfg.load == {"gpu": {}}
    env = {"LMSPROFILES_MODELS__CHAT__INFERENCE__STOP_STRINGS": '["e"]'}
    assert lmsprofiles.load(root, env=env, user_config=user).resolve("chat").inference[
        "stopStrings"
    ] == ["e"]


def test_null_in_a_higher_layer_restores_lm_studio_default(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "global.yaml": "inference:\n  maxTokens: 100\n",
            "models/chat.yaml": "model: m\ninference:\n  maxTokens: null\n",
            "models/other.yaml": "model: m2\ninference:\n  maxTokens: false\n",
        }
    )
    profiles = lmsprofiles.load(root)
    chat = profiles.resolve("chat")
    assert "maxTokens" not in chat.inference and "maxTokens" not in chat.values["inference"]
    origin = chat.origin("inference.maxTokens")
    assert origin.unset and str(origin).startswith("LM Studio default (unset by ")
    other = profiles.resolve("other")
    assert other.values["inference"]["maxTokens"] is False  # false is a value, not unset
    assert "maxTokens" not in other.inference  # LM Studio reads a missing maxTokens as no limit
    assert profiles.resolve("chat", maxTokens=None).origin("inference.maxTokens").unset


def test_env_null_unsets_and_call_site_none_unsets(write_tree: WriteTree) -> None:
    root = write_tree(
        {"global.yaml": "load:\n  contextLength: 4096\n", "models/chat.yaml": "model: m\n"}
    )
    env = {"LMSPROFILES_LOAD__CONTEXT_LENGTH": "null"}
    assert lmsprofiles.load(root, env=env).resolve("chat").load == {}
    assert lmsprofiles.load(root).resolve("chat", contextLength=None).load == {}
