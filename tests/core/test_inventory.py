"""The inventory (``hosts.yaml``): hosts, their layers, model selection, variables, problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError, UnknownHostError, UnknownModelError
from lmsprofiles._cli import main
from tests.conftest import WriteTree

MODELS = {
    "global.yaml": "load:\n  flashAttention: true\ninference:\n  temperature: 0.7\n",
    "models/chat.yaml": "model: qwen/qwen3-8b\nlabels: {size: small}\nload:\n  contextLength: 16384\n",
    "models/coder.yaml": "model: qwen/qwen2.5-coder-14b\nlabels: {size: large, code: true}\n",
    "models/embed.yaml": "model: nomic\ntype: embedding\nlabels: {size: small}\n",
    "models/notes.yaml": "model: google/gemma-3-1b\ndeploy: false\n",
    "requests/creative.yaml": "inference:\n  temperature: 1.1\n",
}

HOSTS = """\
hosts:
  workstation:
    address: localhost
    labels: {gpu: 24GB, vram: 24}
    models:
      chat:
        load: {contextLength: 32k}
  gpu-a:
    address: 10.0.0.11:1234
    load:
      gpu: {ratio: 0.5}
    inference: {maxTokens: 256}
    runs:
      models: [coder, notes]
      labels: {size: small}
  laptop:
    address: "[::1]:5000"
    runs:
      models: []
"""


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def problems(root: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env=env or {}, user_config=None)
    assert caught.value.exit_code == 3
    return [str(p) for p in caught.value.problems]


def test_hosts_their_models_and_labels(write_tree: WriteTree) -> None:
    profiles = lmsprofiles.load(write_tree({**MODELS, "hosts.yaml": HOSTS}), user_config=None)
    assert list(profiles.hosts) == ["workstation", "gpu-a", "laptop"]  # the file's order
    workstation, gpu_a, laptop = profiles.hosts.values()
    assert workstation.address == "localhost:1234"
    assert workstation.server == "127.0.0.1:1234"
    assert workstation.labels == {"gpu": "24GB", "vram": "24"}
    assert workstation.models == ("chat", "coder", "embed", "notes")  # runs: every model
    assert gpu_a.models == ("chat", "coder", "embed", "notes")  # by name and by label
    assert laptop.models == ()
    assert laptop.address == "[::1]:5000"
    assert profiles.models["coder"].labels == {"size": "large", "code": "true"}


def test_the_host_layers_apply_only_when_resolving_for_the_host(write_tree: WriteTree) -> None:
    profiles = lmsprofiles.load(write_tree({**MODELS, "hosts.yaml": HOSTS}), user_config=None)
    assert profiles.resolve("chat").load["contextLength"] == 16384
    on_workstation = profiles.resolve("chat", host="workstation")
    assert on_workstation.host == "workstation"
    assert on_workstation.load["contextLength"] == 32768  # the host-model layer beats the model
    assert str(on_workstation.origin("load.contextLength")) == "profiles/hosts.yaml:7:31"
    on_gpu = profiles.resolve("chat", "creative", host="gpu-a")
    assert on_gpu.load == {"flashAttention": True, "contextLength": 16384, "gpu": {"ratio": 0.5}}
    assert on_gpu.inference["maxTokens"] == 256
    assert on_gpu.inference["temperature"] == 1.1  # the request overlay is above the host
    embed = profiles.resolve("embed", host="gpu-a")
    assert embed.load == {"gpu": {"ratio": 0.5}}  # embedding models take what they can
    assert profiles.resolve("chat", host="gpu-a", maxTokens=8).inference["maxTokens"] == 8
    deployed = [cfg.identifier for cfg in profiles.deployments("gpu-a")]
    assert deployed == ["chat", "coder", "embed"]  # notes is deploy: false
    assert profiles.deployments("laptop") == []


def test_asking_for_a_host_that_is_not_there_or_a_model_it_does_not_run(
    write_tree: WriteTree,
) -> None:
    root = write_tree({**MODELS, "hosts.yaml": HOSTS.replace("models: []", "models: [chat]")})
    profiles = lmsprofiles.load(root, user_config=None)
    with pytest.raises(UnknownHostError, match=r"no host named 'gpu-b'; did you mean 'gpu-a'\?"):
        profiles.resolve("chat", host="gpu-b")
    with pytest.raises(
        UnknownModelError, match=r"host 'laptop' does not run 'coder' \(its models: chat\)"
    ):
        profiles.resolve("coder", host="laptop")


def test_without_hosts_yaml_there_are_no_hosts(write_tree: WriteTree) -> None:
    profiles = lmsprofiles.load(write_tree(MODELS), user_config=None)
    assert profiles.hosts == {}
    with pytest.raises(UnknownHostError, match=r"hosts\.yaml has none"):
        profiles.resolve("chat", host="x")


def test_every_problem_of_the_file_at_its_position(write_tree: WriteTree) -> None:
    hosts = """\
hosts:
  good:
    address: 127.0.0.1:1234
  adressless:
    adress: x
  bad-port:
    address: "box:abc"
  twin:
    address: localhost
  picky:
    address: picky
    runs:
      models: [chatt, coder]
    models:
      chat: {load: {contextLength: 1}}
      ghost: {}
      coder:
        load: {contextLenght: 4096}
  bad name!:
    address: a
  embedder:
    address: embedder
    labels: {gpu: [1, 2]}
    models:
      embed:
        inference: {temperature: 0.1}
"""
    assert problems(write_tree({**MODELS, "hosts.yaml": hosts})) == [
        "profiles/hosts.yaml:5:5: hosts.adressless: missing required key 'address'",
        "profiles/hosts.yaml:5:5: hosts.adressless.adress: unknown key 'adress'; did you mean "
        "'address'?",
        "profiles/hosts.yaml:7:14: hosts.bad-port.address: the port must be a number from 1 to "
        "65535 (got 'box:abc')",
        "profiles/hosts.yaml:9:14: hosts.twin.address: localhost:1234 is the same LM Studio "
        "server as host 'good' (127.0.0.1:1234); give each server one entry",
        "profiles/hosts.yaml:13:16: hosts.picky.runs.models[0]: no model profile with the "
        "identifier 'chatt'; did you mean 'chat'?",
        "profiles/hosts.yaml:15:13: hosts.picky.models.chat: host 'picky' does not run 'chat' "
        "(see its runs); remove this overlay or add the model to runs",
        "profiles/hosts.yaml:16:14: hosts.picky.models.ghost: no model profile with the "
        "identifier 'ghost'; models/ has chat, coder, embed, notes",
        "profiles/hosts.yaml:18:16: hosts.picky.models.coder.load.contextLenght: unknown key "
        "'contextLenght'; did you mean 'contextLength'?",
        "profiles/hosts.yaml:20:5: hosts.bad name!: a host name is letters, digits, '.', '_' "
        "and '-', starting with a letter or digit (it is written in --hosts and in "
        "LMSPROFILES_HOSTS__NAME__... variables)",
        "profiles/hosts.yaml:23:13: hosts.embedder.labels: label 'gpu' must be a string, a "
        "number or true/false (got a list)",
        "profiles/hosts.yaml:26:20: hosts.embedder.models.embed.inference: embedding models "
        "take no inference",
    ]


def test_a_rule_broken_by_a_host_names_the_host(write_tree: WriteTree) -> None:
    hosts = "hosts:\n  box:\n    address: box\n    load:\n      flashAttention: false\n"
    coder = "model: c\nload:\n  llamaVCacheQuantizationType: q8_0\n"
    root = write_tree({**MODELS, "models/coder.yaml": coder, "hosts.yaml": hosts})
    assert problems(root) == [  # once, at the host's value that broke the rule
        "profiles/hosts.yaml:5:23: hosts.box.load.flashAttention: a quantized V cache "
        "needs flashAttention: true (model 'coder', host 'box')",
    ]
    assert lmsprofiles.load(
        root, user_config=None, env={"LMSPROFILES_HOSTS__BOX__LOAD__FLASH_ATTENTION": "true"}
    )


def test_hosts_yaml_and_hosts_yml_together(write_tree: WriteTree) -> None:
    root = write_tree({**MODELS, "hosts.yaml": HOSTS, "hosts.yml": "hosts: {}\n"})
    assert problems(root) == ["profiles/hosts.yml: both hosts.yaml and hosts.yml exist; keep one"]


def test_variables_override_the_inventory(write_tree: WriteTree) -> None:
    env = {
        "LMSPROFILES_HOSTS__GPU_A__ADDRESS": "127.0.0.1:4000",
        "LMSPROFILES_HOSTS__GPU_A__LABELS": '{"gpu": "80GB"}',
        "LMSPROFILES_HOSTS__GPU_A__RUNS__MODELS": '["coder"]',
        "LMSPROFILES_HOSTS__GPU_A__RUNS__LABELS": "{}",
        "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGTH": "8k",
        "LMSPROFILES_HOSTS__WORKSTATION__MODELS__CHAT__LOAD__CONTEXT_LENGTH": "4096",
        "LMSPROFILES_MODELS__CHAT__LOAD__CONTEXT_LENGTH": "2048",
    }
    root = write_tree({**MODELS, "hosts.yaml": HOSTS})
    profiles = lmsprofiles.load(root, env=env, user_config=None)
    gpu_a = profiles.hosts["gpu-a"]
    assert (gpu_a.address, gpu_a.labels, gpu_a.models) == (
        "127.0.0.1:4000",
        {"gpu": "80GB"},
        ("coder",),
    )
    coder = profiles.resolve("coder", host="gpu-a")
    assert coder.load["contextLength"] == 8192
    assert (
        str(coder.origin("load.contextLength")) == "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGTH"
    )
    chat = profiles.resolve("chat", host="workstation")
    assert chat.load["contextLength"] == 4096  # env-host-model beats env-model
    assert profiles.resolve("chat").load["contextLength"] == 2048


def test_every_problem_of_the_variables(write_tree: WriteTree) -> None:
    env = {
        "LMSPROFILES_HOSTS__GPU_B__ADDRESS": "x",
        "LMSPROFILES_HOSTS__GPU_A__ADRESS": "x",
        "LMSPROFILES_HOSTS__GPU_A__ADDRESS": "http://x",
        "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGHT": "1",
        "LMSPROFILES_HOSTS__GPU_A__RUNS__MODELS": "coder",
        "LMSPROFILES_HOSTS__LAPTOP__MODELS__CHAT__LOAD__CONTEXT_LENGTH": "1",
        "LMSPROFILES_HOSTS__WORKSTATION__MODELS__CHATT__TTL": "1",
        "LMSPROFILES_HOSTS__WORKSTATION__MODELS__CHAT": "1",
        "LMSPROFILES_HOSTS__WORKSTATION__TTL": "soon",
        "LMSPROFILES_HOSTS": "x",
    }
    assert problems(write_tree({**MODELS, "hosts.yaml": HOSTS}), env) == [
        "LMSPROFILES_HOSTS: unknown variable; name a host and a field, e.g. "
        "LMSPROFILES_HOSTS__GPU_A__ADDRESS",
        "LMSPROFILES_HOSTS__GPU_A__ADDRESS: hosts.gpu-a.address: give host:port without a "
        "scheme, e.g. localhost:1234",
        "LMSPROFILES_HOSTS__GPU_A__ADRESS: unknown variable; did you mean "
        "LMSPROFILES_HOSTS__GPU_A__ADDRESS?",
        "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGHT: unknown variable; did you mean "
        "LMSPROFILES_HOSTS__GPU_A__LOAD__CONTEXT_LENGTH?",
        "LMSPROFILES_HOSTS__GPU_A__RUNS__MODELS: hosts.gpu-a.runs.models: must be a JSON list, "
        'e.g. ["a", "b"] (got \'coder\')',
        "LMSPROFILES_HOSTS__GPU_B__ADDRESS: no host named 'GPU_B' in profiles/hosts.yaml "
        "(gpu-a, laptop, workstation); did you mean LMSPROFILES_HOSTS__GPU_A__...?",
        "LMSPROFILES_HOSTS__LAPTOP__MODELS__CHAT__LOAD__CONTEXT_LENGTH: host 'laptop' does not "
        "run 'chat' (its models: none)",
        "LMSPROFILES_HOSTS__WORKSTATION__MODELS__CHAT: unknown variable; name a field after "
        "the model, e.g. LMSPROFILES_HOSTS__WORKSTATION__MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH",
        "LMSPROFILES_HOSTS__WORKSTATION__MODELS__CHATT__TTL: no model profile with the "
        "identifier 'CHATT'; did you mean ...__MODELS__CHAT__...?",
        "LMSPROFILES_HOSTS__WORKSTATION__TTL: ttl: must be an integer >= 1 (got 'soon')",
    ]


def test_the_values_of_variables_are_checked_like_the_file(write_tree: WriteTree) -> None:
    env = {
        "LMSPROFILES_HOSTS__GPU_A__LABELS": '{"gpu": [1]}',
        "LMSPROFILES_HOSTS__GPU_A__RUNS__LABELS": '{"": "x"}',
        "LMSPROFILES_HOSTS__LAPTOP__RUNS__MODELS": '["chat", ""]',
        "LMSPROFILES_HOSTS__WORKSTATION__ADDRESS": "[::1",
    }
    assert problems(write_tree({**MODELS, "hosts.yaml": HOSTS}), env) == [
        "LMSPROFILES_HOSTS__GPU_A__LABELS: hosts.gpu-a.labels: label 'gpu' must be a string, a "
        "number or true/false (got a list)",
        "LMSPROFILES_HOSTS__GPU_A__RUNS__LABELS: hosts.gpu-a.runs.labels: label names must be "
        "non-empty strings (got the string '')",
        "LMSPROFILES_HOSTS__LAPTOP__RUNS__MODELS: hosts.laptop.runs.models[1]: list item 1 "
        "must be a non-empty string (got the string '')",
        "LMSPROFILES_HOSTS__WORKSTATION__ADDRESS: hosts.workstation.address: unclosed '[' in "
        "'[::1'; write an IPv6 address as [::1]:1234",
    ]


def test_a_variable_with_no_hosts_yaml(write_tree: WriteTree) -> None:
    env = {"LMSPROFILES_HOSTS__BOX__ADDRESS": "box"}
    assert problems(write_tree(MODELS), env) == [
        "LMSPROFILES_HOSTS__BOX__ADDRESS: there is no hosts.yaml in profiles for it to override"
    ]


def test_a_variable_can_give_the_address(write_tree: WriteTree) -> None:
    root = write_tree({**MODELS, "hosts.yaml": "hosts:\n  ci:\n    runs: {models: [chat]}\n"})
    assert problems(root) == ["profiles/hosts.yaml:3:5: hosts.ci: missing required key 'address'"]
    env = {"LMSPROFILES_HOSTS__CI__ADDRESS": "127.0.0.1:41000"}
    assert lmsprofiles.load(root, env=env, user_config=None).hosts["ci"].address == (
        "127.0.0.1:41000"
    )


def test_validate_and_render_with_hosts(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree({**MODELS, "hosts.yaml": HOSTS})
    root = "profiles"
    assert main(["validate", "--profiles", root]) == 0
    assert capsys.readouterr().out == "valid: profiles (4 models, 1 request, 3 hosts)\n"
    assert main(["validate", "--profiles", root, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hosts"] == ["workstation", "gpu-a", "laptop"]
    argv = ["render", "--profiles", root, "chat", "--host", "workstation", "--show-origin"]
    assert main([*argv, "--hide-defaults"]) == 0
    out = capsys.readouterr().out
    assert "host: workstation\n" in out
    assert "  contextLength: 32768 # profiles/hosts.yaml:7:31\n" in out
    assert main(["render", "--profiles", root, "--all", "--host", "gpu-a", "--format", "json"]) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert [d["identifier"] for d in rendered] == ["chat", "coder", "embed", "notes"]
    assert {d["host"] for d in rendered} == {"gpu-a"}
    assert main(["--host", "gpu-a", "render", "--profiles", root, "coder"]) == 0  # before, too
    assert "gpu:\n    ratio: 0.5\n" in capsys.readouterr().out
    assert main(["render", "--profiles", root, "coder", "--host", "laptop"]) == 3
    assert "host 'laptop' does not run 'coder'" in capsys.readouterr().err
    assert main(["render", "--profiles", root, "coder", "--host", "gpu"]) == 3
    assert "no host named 'gpu'; did you mean 'gpu-a'?" in capsys.readouterr().err


def test_the_schema_knows_hosts_yaml() -> None:
    schema = json.loads((Path(__file__).resolve().parents[2] / "schema.json").read_text())
    assert {"$ref": "#/$defs/HostsFile"} in schema["anyOf"]
    entry = schema["$defs"]["HostEntry"]
    assert entry["required"] == ["address"]
    assert set(entry["properties"]) >= {"address", "labels", "load", "models", "runs"}
    assert "labels" in schema["$defs"]["ModelFile"]["properties"]
