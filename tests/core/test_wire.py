"""What a profile says is what lmstudio SDK 1.5 puts on the wire, field by field.

Each field is written in a real profile file, resolved, handed to the SDK's own conversion
(the code ``load_new_instance`` and ``respond`` run) and the KV fields it produces are compared
with the profile; then the SDK's parser of server configs reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from lmstudio import _kv_config as kv
from lmstudio._sdk_models import (
    EmbeddingLoadModelConfig,
    LlmLoadModelConfig,
    LlmPredictionConfigInput,
)
from ruamel.yaml import YAML

import lmsprofiles
from lmsprofiles import _fields as f
from lmsprofiles import _fieldtable as t
from lmsprofiles._keys import fields_of
from tests.conftest import WriteTree

LOAD_SAMPLES: dict[str, Any] = {
    "contextLength": 4096,
    "gpu": {"ratio": 0.5, "mainGpu": 1, "splitStrategy": "favorMainGpu", "disabledGpus": [0]},
    "gpuStrictVramCap": True,
    "offloadKVCacheToGpu": False,
    "numExperts": 4,
    "seed": 7,
    "ropeFrequencyBase": 10000.0,
    "ropeFrequencyScale": 0.5,
    "evalBatchSize": 256,
    "flashAttention": True,
    "keepModelInMemory": False,
    "tryMmap": False,
    "useFp16ForKVCache": False,
    "llamaKCacheQuantizationType": "q8_0",
    "llamaVCacheQuantizationType": "q4_0",
}
EMBEDDING_SAMPLES = {k: LOAD_SAMPLES[k] for k in fields_of(f.EmbeddingLoad)}
INFERENCE_SAMPLES: dict[str, Any] = {
    "maxTokens": 64,
    "temperature": 0.3,
    "stopStrings": ["\n\n", "</s>"],
    "toolCallStopStrings": ["</tool_call>"],
    "contextOverflowPolicy": "rollingWindow",
    "structured": {
        "type": "json",
        "jsonSchema": {"type": "object", "properties": {"first_name": {"type": "string"}}},
    },
    "rawTools": {
        "type": "toolArray",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Find a user",
                    "parameters": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
            }
        ],
        "force": True,
    },
    "topKSampling": 40,
    "repeatPenalty": 1.1,
    "minPSampling": 0.05,
    "topPSampling": 0.9,
    "cpuThreads": 4,
    "promptTemplate": {
        "type": "manual",
        "stopStrings": ["<end>"],
        "manualPromptTemplate": {
            "beforeSystem": "<s>",
            "afterSystem": "</s>",
            "beforeUser": "<u>",
            "afterUser": "</u>",
            "beforeAssistant": "<a>",
            "afterAssistant": "</a>",
        },
    },
    "draftModel": "qwen/qwen3-0.6b",
    "speculativeDecodingNumDraftTokensExact": 3,
    "speculativeDecodingMinDraftLengthToConsider": 2,
    "speculativeDecodingMinContinueDraftingProbability": 0.6,
    "reasoningParsing": {"enabled": True, "startString": "<think>", "endString": "</think>"},
}


def _yaml(data: dict[str, Any]) -> str:
    import io

    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def _resolve(write_tree: WriteTree, kind: str, section: str, values: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"model": "m", "type": kind, section: values}
    if values.get("llamaVCacheQuantizationType") not in (None, False):
        body[section]["flashAttention"] = True
    root = write_tree({"models/x.yaml": _yaml(body)})
    return lmsprofiles.load(root, env={}).resolve("x")


def _wire(fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {field["key"]: field["value"] for field in fields}


def _expected(name: str, value: Any, wire: t.Wire) -> dict[str, Any]:
    if name == "gpu":
        split = {
            "strategy": "priorityOrder"
            if value.get("splitStrategy") == "favorMainGpu"
            else "evenly",
            "priority": [value["mainGpu"]] if value.get("splitStrategy") == "favorMainGpu" else [],
            "disabledGpus": value.get("disabledGpus", []),
            "customRatio": [],
        }
        out = {"load.gpuSplitConfig": split}
        ratio_key = "llm.load.llama.acceleration.offloadRatio"
        if wire.key.startswith("embedding"):
            ratio_key = "embedding.load.llama.acceleration.offloadRatio"
        if "ratio" in value:
            out[ratio_key] = value["ratio"]
        return out
    return {wire.key: {"checked": True, "value": value} if wire.checkbox else value}


def _wire_table(name: str, table: Mapping[str, t.Wire]) -> t.Wire:
    return table["gpu.ratio"] if name == "gpu" else table[name]


@pytest.mark.parametrize("name", list(LOAD_SAMPLES))
def test_llm_load_field_reaches_the_wire_as_written(write_tree: WriteTree, name: str) -> None:
    cfg = _resolve(write_tree, "llm", "load", {name: LOAD_SAMPLES[name]})
    stack = kv.load_config_to_kv_config_stack(cfg.load, LlmLoadModelConfig).to_dict()
    sent = _wire(stack["layers"][0]["config"]["fields"])
    expected = _expected(name, LOAD_SAMPLES[name], _wire_table(name, t.WIRE_LOAD))
    if name == "llamaVCacheQuantizationType":
        expected["llm.load.llama.flashAttention"] = True
    assert sent == expected
    back = kv.parse_server_config({"fields": stack["layers"][0]["config"]["fields"]})
    assert back[name] == LOAD_SAMPLES[name]


@pytest.mark.parametrize("name", list(EMBEDDING_SAMPLES))
def test_embedding_load_field_reaches_the_wire_as_written(write_tree: WriteTree, name: str) -> None:
    cfg = _resolve(write_tree, "embedding", "load", {name: EMBEDDING_SAMPLES[name]})
    stack = kv.load_config_to_kv_config_stack(cfg.load, EmbeddingLoadModelConfig).to_dict()
    sent = _wire(stack["layers"][0]["config"]["fields"])
    assert sent == _expected(
        name, EMBEDDING_SAMPLES[name], _wire_table(name, t.WIRE_EMBEDDING_LOAD)
    )


@pytest.mark.parametrize("name", list(INFERENCE_SAMPLES))
def test_inference_field_reaches_the_wire_as_written(write_tree: WriteTree, name: str) -> None:
    cfg = _resolve(write_tree, "llm", "inference", {name: INFERENCE_SAMPLES[name]})
    _, stack = kv.prediction_config_to_kv_config_stack(None, cfg.inference)
    fields = stack.to_dict()["layers"][0]["config"]["fields"]
    wire = t.WIRE_INFERENCE[name]
    assert _wire(fields) == _expected(name, INFERENCE_SAMPLES[name], wire)
    back = kv.parse_server_config({"fields": fields})
    assert back[name] == INFERENCE_SAMPLES[name]


OFF_FIELDS = [
    ("load", "seed"),
    ("load", "ropeFrequencyBase"),
    ("load", "ropeFrequencyScale"),
    ("load", "llamaKCacheQuantizationType"),
    ("load", "llamaVCacheQuantizationType"),
    ("inference", "maxTokens"),
]


@pytest.mark.parametrize(("section", "name"), OFF_FIELDS)
def test_false_is_sent_as_not_set(write_tree: WriteTree, section: str, name: str) -> None:
    """LM Studio's default for these checkbox fields is off; SDK 1.5 would send false wrongly."""
    cfg = _resolve(write_tree, "llm", section, {name: False})
    assert cfg.values[section][name] is False
    sdk = cfg.load if section == "load" else cfg.inference
    assert name not in sdk
    if section == "load":
        stack = kv.load_config_to_kv_config_stack(sdk, LlmLoadModelConfig).to_dict()
    else:
        stack = kv.prediction_config_to_kv_config_stack(None, sdk)[1].to_dict()
    keys = {field["key"] for field in stack["layers"][0]["config"]["fields"]}
    table = t.WIRE_LOAD if section == "load" else t.WIRE_INFERENCE
    assert table[name].key not in keys


def test_every_sdk_field_is_covered_and_nothing_else() -> None:
    assert set(fields_of(f.LlmLoad)) == set(LlmLoadModelConfig.__struct_encode_fields__)
    assert set(fields_of(f.EmbeddingLoad)) == set(EmbeddingLoadModelConfig.__struct_encode_fields__)
    sdk_inference = set(LlmPredictionConfigInput.__struct_encode_fields__) - {"raw"}
    assert set(fields_of(f.Inference)) == sdk_inference
    assert set(LOAD_SAMPLES) == set(fields_of(f.LlmLoad))
    assert set(INFERENCE_SAMPLES) == set(fields_of(f.Inference))


@pytest.mark.parametrize(
    ("table", "sdk_table"),
    [
        (t.WIRE_LOAD, kv.TO_SERVER_LOAD_LLM),
        (t.WIRE_EMBEDDING_LOAD, kv.TO_SERVER_LOAD_EMBEDDING),
        (t.WIRE_INFERENCE, kv.TO_SERVER_PREDICTION),
    ],
)
def test_wire_tables_match_the_sdk_mapping(table: Any, sdk_table: Any) -> None:
    ours = {(name.split(".")[0], wire.key, wire.checkbox) for name, wire in table.items()}
    theirs = {
        (client, server, isinstance(field, kv.CheckboxField))
        for client, entries in sdk_table.items()
        for server, field in entries
    }
    assert ours == theirs


def test_raw_and_unsupported_fields_are_never_sent(write_tree: WriteTree) -> None:
    root = write_tree({"models/x.yaml": "model: m\ninference:\n  raw: {}\n  xtcProbability: 0.5\n"})
    with pytest.raises(lmsprofiles.ProfileError) as caught:
        lmsprofiles.load(root, env={})
    messages = [p.message for p in caught.value.problems]
    assert "'raw' is not supported: lmstudio SDK 1.5 rejects raw KV configs" in messages
    assert (
        "'xtcProbability' is not supported by lmstudio SDK 1.5, which would drop it silently; "
        "only LM Studio 0.4 knows it (no SDK sends it): set it in the model's defaults in the "
        "LM Studio app instead" in messages
    )
