"""docs/fields.md, row by row, against the code, the SDK packages and the real path.

* The field names are those ``@lmstudio/sdk`` 2.0.0 declares (its installed type declarations
  in tests/ts/node_modules; CI installs them before the tests run).
* The ``lmstudio`` 1.5 column is what the installed Python SDK knows; the Profiles column is
  what the profile schema accepts, and every rejected field fails ``lmsprofiles validate`` with
  its reason.
* Every accepted field reaches LM Studio as written: ``lmsprofiles reconcile`` loads a profile
  that sets all accepted load fields into the emulator, whose stored KV config and the SDK's
  read-back are compared with the profile; the accepted inference fields go through
  ``respond`` and come back in the prediction result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmstudio as lms
import pytest
from lmstudio._sdk_models import (
    EmbeddingLoadModelConfig,
    GpuSetting,
    LlmLoadModelConfig,
    LlmPredictionConfigInput,
)
from ruamel.yaml import YAML

import lmsprofiles
from lmsprofiles import _fields as f
from lmsprofiles import _fieldtable as t
from lmsprofiles._cli import main
from lmsprofiles._keys import fields_of
from lmsprofiles.emulator import Emulator
from tests.conftest import WriteTree
from tests.core.test_wire import LOAD_SAMPLES
from tests.emulator.conftest import GEMMA, NOMIC

REPO = Path(__file__).resolve().parents[2]
FIELDS_DOC = REPO / "docs" / "fields.md"
SDK20_TYPES = REPO / "tests" / "ts" / "node_modules" / "sdk20" / "dist" / "index.d.ts"

LLM = "LLMLoadModelConfig"
EMBEDDING = "EmbeddingLoadModelConfig"
INFERENCE = "LLMPredictionConfigInput"


@dataclass(frozen=True)
class Row:
    field: str
    kv_keys: tuple[str, ...]
    checkbox: bool
    ts: str
    python: str
    profiles: str

    @property
    def name(self) -> str:
        """The field's own name (``ratio`` for ``gpu.ratio``)."""
        return self.field.rsplit(".", 1)[-1]


def table(type_name: str) -> list[Row]:
    """The rows of the docs/fields.md table under the heading naming ``type_name``."""
    lines = FIELDS_DOC.read_text(encoding="utf-8").splitlines()
    (start,) = [
        i for i, line in enumerate(lines) if line.startswith("## ") and f"(`{type_name}`)" in line
    ]
    prefix = "llm.prediction." if type_name == INFERENCE else ""
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        field, kv, ts, python, profiles = cells
        keys = tuple(prefix + key for key in re.findall(r"`([^`]+)`", kv))
        rows.append(Row(field.strip("`"), keys, "(checkbox)" in kv, ts, python, profiles))
    return rows


def declared_by_sdk20(type_name: str) -> list[str]:
    """The property names of a type in ``@lmstudio/sdk`` 2.0.0's declarations (gpu expanded)."""
    lines = SDK20_TYPES.read_text(encoding="utf-8").splitlines()
    header = re.compile(rf"^export declare (interface {type_name}\b.*\{{|type {type_name} = \{{)$")
    (start,) = [i for i, line in enumerate(lines) if header.match(line)]
    names = []
    for line in lines[start + 1 :]:
        if line.startswith("}"):
            break
        match = re.match(r"^ {4}(\w+)\??:", line)
        if match:
            names.append(match.group(1))
    return [sub for name in names for sub in (_gpu_fields() if name == "gpu" else [name])]


def _gpu_fields() -> list[str]:
    return [f"gpu.{name}" for name in declared_by_sdk20("GPUSetting")]


@pytest.mark.parametrize("type_name", [LLM, EMBEDDING, INFERENCE])
def test_the_table_lists_what_lmstudio_sdk_2_declares(type_name: str) -> None:
    if not SDK20_TYPES.exists():
        message = "needs @lmstudio/sdk 2.0.0: run `npm ci` in tests/ts"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert sorted(row.field for row in table(type_name)) == sorted(declared_by_sdk20(type_name))


PYTHON_TYPES: dict[str, Any] = {
    LLM: LlmLoadModelConfig,
    EMBEDDING: EmbeddingLoadModelConfig,
    INFERENCE: LlmPredictionConfigInput,
}


@pytest.mark.parametrize("type_name", [LLM, EMBEDDING, INFERENCE])
def test_the_python_column_is_what_lmstudio_1_5_knows(type_name: str) -> None:
    for row in table(type_name):
        struct = GpuSetting if row.field.startswith("gpu.") else PYTHON_TYPES[type_name]
        known = row.name in struct.__struct_encode_fields__
        expected = "rejects" if row.field == "raw" else "sends" if known else "drops"
        assert row.python == expected, row.field


SCHEMAS: dict[str, Any] = {LLM: f.LlmLoad, EMBEDDING: f.EmbeddingLoad, INFERENCE: f.Inference}
WIRE: dict[str, Any] = {
    LLM: t.WIRE_LOAD,
    EMBEDDING: t.WIRE_EMBEDDING_LOAD,
    INFERENCE: t.WIRE_INFERENCE,
}


def _section(type_name: str, row: Row) -> str:
    if row.field.startswith("gpu."):
        return "gpu"
    return "inference" if type_name == INFERENCE else "load"


@pytest.mark.parametrize("type_name", [LLM, EMBEDDING, INFERENCE])
def test_the_profiles_column_is_what_the_schema_accepts(type_name: str) -> None:
    rows = table(type_name)
    for row in rows:
        schema = f.Gpu if row.field.startswith("gpu.") else SCHEMAS[type_name]
        accepted = row.name in fields_of(schema)
        unsupported = row.name in t.UNSUPPORTED[_section(type_name, row)]
        assert accepted != unsupported, row.field
        assert row.profiles == ("accepted" if accepted else "rejected"), row.field
        if accepted:
            wire = WIRE[type_name][row.field]
            assert wire.key in row.kv_keys, row.field
            assert wire.checkbox == row.checkbox, row.field
    # and every field a profile accepts has a row
    top_level = {row.field.split(".")[0] for row in rows}
    assert set(fields_of(SCHEMAS[type_name])) <= top_level


def _yaml(data: dict[str, Any]) -> str:
    import io

    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        *parents, last = dotted.split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return nested


def test_rejected_fields_fail_validate_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rejected = {
        type_name: [row.field for row in table(type_name) if row.profiles == "rejected"]
        for type_name in (LLM, EMBEDDING, INFERENCE)
    }
    models = tmp_path / "profiles" / "models"
    models.mkdir(parents=True)
    (models / "llm.yaml").write_text(
        _yaml(
            {
                "model": GEMMA,
                "load": _nest(dict.fromkeys(rejected[LLM], True)),
                "inference": _nest(dict.fromkeys(rejected[INFERENCE], True)),
            }
        )
    )
    (models / "embed.yaml").write_text(
        _yaml(
            {
                "model": NOMIC,
                "type": "embedding",
                "load": _nest(dict.fromkeys(rejected[EMBEDDING], True)),
            }
        )
    )
    assert main(["--profiles", str(tmp_path / "profiles"), "validate"]) == 3
    err = capsys.readouterr().err
    problems = {
        (match.group(1), match.group(2), match.group(3))
        for match in re.finditer(r"^\S+/models/(\w+)\.yaml:\d+:\d+: (\S+): (.*)$", err, re.M)
    }
    expected = set()
    for file, type_name in (("llm", LLM), ("llm", INFERENCE), ("embed", EMBEDDING)):
        section = "inference" if type_name == INFERENCE else "load"
        for field in rejected[type_name]:
            row_section = "gpu" if field.startswith("gpu.") else section
            name = field.rsplit(".", 1)[-1]
            reason = f"'{name}' {t.UNSUPPORTED[row_section][name]}"
            expected.add((file, f"{section}.{field}", reason))
    assert problems == expected
    doc = FIELDS_DOC.read_text(encoding="utf-8")
    for _, _, message in problems:  # the page quotes every kind of message it lists
        if message.startswith(("'autoFit'", "'raw'")):
            assert message in doc


# LOAD_SAMPLES (from the SDK conversion tests) differ from every default; the embedding model's
# maximum context is 2048.
EMBEDDING_SAMPLES = {
    **{k: LOAD_SAMPLES[k] for k in fields_of(f.EmbeddingLoad)},
    "contextLength": 1024,
}
GPU_SPLIT = {"strategy": "priorityOrder", "disabledGpus": [0], "priority": [1], "customRatio": []}


def _stored(row: Row, samples: dict[str, Any]) -> Any:
    """What the emulator must have stored under the row's KV key for ``samples``."""
    if row.field.startswith("gpu."):
        return samples["gpu"]["ratio"] if row.name == "ratio" else GPU_SPLIT
    value = samples[row.field]
    return {"checked": True, "value": value} if row.checkbox else value


def test_accepted_load_fields_reach_lm_studio_and_read_back(
    lmstudio_emulator: Emulator, tmp_path: Path
) -> None:
    llm_rows = [row for row in table(LLM) if row.profiles == "accepted"]
    embedding_rows = [row for row in table(EMBEDDING) if row.profiles == "accepted"]
    assert {row.field.split(".")[0] for row in llm_rows} == set(LOAD_SAMPLES)
    assert {row.field.split(".")[0] for row in embedding_rows} == set(EMBEDDING_SAMPLES)
    profiles = tmp_path / "profiles"
    (profiles / "models").mkdir(parents=True)
    (profiles / "models" / "all-llm.yaml").write_text(_yaml({"model": GEMMA, "load": LOAD_SAMPLES}))
    (profiles / "models" / "all-embed.yaml").write_text(
        _yaml({"model": NOMIC, "type": "embedding", "load": EMBEDDING_SAMPLES})
    )
    argv = ["--profiles", str(profiles), "--host", lmstudio_emulator.host, "reconcile"]
    assert main([*argv, "--state-dir", str(tmp_path / "state")]) == 0
    with lms.Client(lmstudio_emulator.host) as client:
        llm_back = dict(client.llm.model("all-llm").get_load_config().to_dict())
        embedding_back = dict(client.embedding.model("all-embed").get_load_config().to_dict())
    for identifier, rows, samples, back in (
        ("all-llm", llm_rows, LOAD_SAMPLES, llm_back),
        ("all-embed", embedding_rows, EMBEDDING_SAMPLES, embedding_back),
    ):
        stored = lmstudio_emulator.instance(identifier).load_config
        for row in rows:
            (key,) = [k for k in row.kv_keys if k in stored]
            assert stored[key] == _stored(row, samples), row.field
        assert {k: back[k] for k in samples} == samples


INFERENCE_SAMPLES: dict[str, Any] = {
    "maxTokens": 64,
    "temperature": 0.3,
    "stopStrings": ["\n\n"],
    "toolCallStopStrings": ["</tool_call>"],
    "contextOverflowPolicy": "rollingWindow",
    "structured": {"type": "json", "jsonSchema": {"type": "object", "properties": {}}},
    "rawTools": {
        "type": "toolArray",
        "tools": [
            {
                "type": "function",
                "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
            }
        ],
    },
    "topKSampling": 20,
    "repeatPenalty": 1.3,
    "minPSampling": 0.1,
    "topPSampling": 0.9,
    "cpuThreads": 2,
    "promptTemplate": {
        "type": "jinja",
        "stopStrings": [],
        "jinjaPromptTemplate": {"template": "{{ messages }}"},
    },
    "draftModel": "qwen/qwen3-0.6b",
    "speculativeDecodingNumDraftTokensExact": 3,
    "speculativeDecodingMinDraftLengthToConsider": 2,
    "speculativeDecodingMinContinueDraftingProbability": 0.6,
    "reasoningParsing": {"enabled": False, "startString": "<r>", "endString": "</r>"},
}


def test_accepted_inference_fields_reach_lm_studio_and_read_back(
    client: lms.Client, write_tree: WriteTree
) -> None:
    accepted = {row.field for row in table(INFERENCE) if row.profiles == "accepted"}
    assert accepted == set(INFERENCE_SAMPLES)
    root = write_tree({"models/all.yaml": _yaml({"model": GEMMA, "inference": INFERENCE_SAMPLES})})
    cfg = lmsprofiles.load(root, env={}).resolve("all")
    model = client.llm.load_new_instance(GEMMA, "all")
    back = dict(model.respond("hi", config=cfg.inference).prediction_config.to_dict())
    assert {k: back[k] for k in INFERENCE_SAMPLES} == INFERENCE_SAMPLES


@pytest.mark.parametrize("domain", ["llm", "embedding"])
def test_the_table_and_the_emulator_agree_on_lm_studios_checkbox_keys(domain: t.Domain) -> None:
    """The emulator models LM Studio on its own; where both know a key, they agree on whether
    it is a checkbox and on the value LM Studio keeps beside ``checked: false``."""
    from lmsprofiles.emulator._kv import fill_load_config, fill_prediction_config

    defaults = fill_load_config(domain, {}, 2048)
    if domain == "llm":
        defaults.update(fill_prediction_config({}))
    compared: set[str] = set()
    for row in t.ROWS:
        for key in row.keys.get(domain, ()):
            if key not in defaults:
                continue
            compared.add(key)
            default = defaults[key]
            checkbox = isinstance(default, dict) and set(default) == {"checked", "value"}
            assert checkbox == row.checkbox, key
            if checkbox:
                assert default["value"] == row.unchecked, key
    assert compared == set(defaults)  # every key the emulator knows is in the table
