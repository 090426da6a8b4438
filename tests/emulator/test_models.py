"""Model management through the unmodified SDK: list, load, get-or-load, info, config, unload."""

from __future__ import annotations

from typing import Any

import lmstudio as lms
import pytest

from lmsprofiles.emulator import Emulator
from tests.emulator.conftest import CODER, GEMMA, NOMIC, QWEN


def _raw_error(exc: lms.LMStudioServerError) -> dict[str, Any]:
    raw = exc._raw_error  # the SDK keeps the server's error object here
    assert raw is not None
    return dict(raw)


def test_list_loaded_is_empty_at_start(client: lms.Client) -> None:
    assert client.llm.list_loaded() == []
    assert client.embedding.list_loaded() == []
    assert client.list_loaded_models() == []


def test_list_downloaded_models_reports_the_catalog(client: lms.Client) -> None:
    downloaded = {m.model_key: m for m in client.list_downloaded_models()}
    assert set(downloaded) == {QWEN, CODER, GEMMA, NOMIC}
    assert downloaded[NOMIC].type == "embedding"
    assert downloaded[NOMIC].info.size_bytes == 84106624
    assert downloaded[QWEN].info.max_context_length == 40960
    assert [m.model_key for m in client.llm.list_downloaded()] == [QWEN, CODER, GEMMA]


def test_load_new_instance_with_identifier_ttl_config_and_progress(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    progress: list[float] = []
    handle = client.llm.load_new_instance(
        GEMMA,
        "tiny",
        ttl=600,
        config={"contextLength": 4096, "flashAttention": True},
        on_load_progress=progress.append,
    )
    assert handle.identifier == "tiny"
    assert progress == [0.25, 0.5, 0.75, 1.0]
    assert [m.identifier for m in client.llm.list_loaded()] == ["tiny"]
    snapshot = lmstudio_emulator.instance("tiny")
    assert (snapshot.model_key, snapshot.context_length, snapshot.ttl_ms) == (GEMMA, 4096, 600000)
    assert snapshot.load_config["llm.load.llama.flashAttention"] is True


def test_second_load_of_a_key_gets_a_numbered_identifier(client: lms.Client) -> None:
    identifiers = [client.llm.load_new_instance(GEMMA).identifier for _ in range(3)]
    assert identifiers == [GEMMA, f"{GEMMA}:2", f"{GEMMA}:3"]
    client.llm.unload(f"{GEMMA}:2")
    assert client.llm.load_new_instance(GEMMA).identifier == f"{GEMMA}:2"


def test_taken_identifier_is_an_error(client: lms.Client) -> None:
    client.llm.load_new_instance(GEMMA, "taken")
    with pytest.raises(lms.LMStudioServerError, match="identifier 'taken' is already loaded"):
        client.llm.load_new_instance(QWEN, "taken")
    assert [m.identifier for m in client.llm.list_loaded()] == ["taken"]


def test_load_of_unknown_key_is_path_not_found(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioServerError, match="Model load error") as caught:
        client.llm.load_new_instance("no/such-model")
    assert not isinstance(caught.value, lms.LMStudioModelNotFoundError)  # as in SDK 1.5.0
    error = _raw_error(caught.value)
    assert error["displayData"]["code"] == "generic.pathNotFound"
    assert error["displayData"]["path"] == "no/such-model"
    assert error["displayData"]["totalModels"] == 4


def test_get_or_load_of_unknown_key_is_path_not_found(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioServerError, match="Model get/load error") as caught:
        client.llm.model("no/such-model")
    assert _raw_error(caught.value)["displayData"]["code"] == "generic.pathNotFound"


def test_loading_an_embedding_model_as_llm_is_a_domain_mismatch(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioServerError) as caught:
        client.llm.load_new_instance(NOMIC)
    assert _raw_error(caught.value)["displayData"]["code"] == "generic.domainMismatch"


def test_model_loads_once_then_returns_the_loaded_instance_ignoring_config(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    progress: list[float] = []
    first = client.llm.model(QWEN, ttl=None, config={"contextLength": 8192})
    again = client.llm.model(QWEN, config={"contextLength": 1024}, on_load_progress=progress.append)
    assert first.identifier == again.identifier == QWEN
    assert progress == [1.0]  # alreadyLoaded: no loading progress but the final one
    assert len(lmstudio_emulator.instances()) == 1
    assert again.get_context_length() == 8192
    assert lmstudio_emulator.instance(QWEN).ttl_ms is None


def test_model_matches_identifiers_not_keys(client: lms.Client) -> None:
    client.llm.load_new_instance(GEMMA, "custom")
    handle = client.llm.model(GEMMA)
    assert handle.identifier == GEMMA
    assert sorted(m.identifier for m in client.llm.list_loaded()) == ["custom", GEMMA]


def test_model_without_key_returns_any_loaded(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioClientError):
        client.llm.model()
    client.llm.load_new_instance(GEMMA)
    assert client.llm.model().identifier == GEMMA


def test_get_info_and_context_length(client: lms.Client) -> None:
    handle = client.llm.load_new_instance(QWEN, config={"contextLength": 16384})
    info = handle.get_info()
    assert isinstance(info, lms.LlmInstanceInfo)
    assert (info.identifier, info.model_key, info.context_length) == (QWEN, QWEN, 16384)
    assert info.max_context_length == 40960
    assert info.trained_for_tool_use is True
    assert handle.get_context_length() == 16384
    assert client.llm.get_model_info(QWEN).identifier == QWEN


def test_get_model_info_of_unknown_identifier_is_model_not_found(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioModelNotFoundError) as caught:
        client.llm.get_model_info("nope")
    display = _raw_error(caught.value)["displayData"]
    assert display["code"] == "generic.noModelMatchingQuery"
    assert display["query"] == {"identifier": "nope"}


def test_get_load_config_fills_lm_studio_defaults(client: lms.Client) -> None:
    handle = client.llm.load_new_instance(GEMMA)
    config = handle.get_load_config().to_dict()
    assert config == {
        "contextLength": 2048,
        "evalBatchSize": 2048,
        "flashAttention": False,
        "gpu": {"ratio": "max", "splitStrategy": "evenly", "disabledGpus": []},
        "gpuStrictVramCap": False,
        "keepModelInMemory": True,
        "numExperts": 0,
        "offloadKVCacheToGpu": True,
        "tryMmap": True,
        "useFp16ForKVCache": True,
    }


def test_get_load_config_round_trips_what_was_sent(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    sent: lms.LlmLoadModelConfigDict = {
        "contextLength": 4096,
        "gpu": {"ratio": 0.5, "mainGpu": 1, "splitStrategy": "favorMainGpu", "disabledGpus": [0]},
        "ropeFrequencyBase": 10000.0,
        "seed": 7,
        "llamaKCacheQuantizationType": "q8_0",
        "llamaVCacheQuantizationType": False,  # SDK 1.5 sends {checked: true, value: false}
        "evalBatchSize": 256,
        "flashAttention": True,
    }
    handle = client.llm.load_new_instance(QWEN, config=sent)
    config: dict[str, Any] = dict(handle.get_load_config().to_dict())
    expected = {k: v for k, v in dict(sent).items() if k != "llamaVCacheQuantizationType"}
    assert {k: config[k] for k in expected} == expected
    assert "llamaVCacheQuantizationType" not in config  # treated as unchecked (off)
    stored = lmstudio_emulator.instance(QWEN).load_config
    assert stored["llm.load.llama.vCacheQuantizationType"] == {"checked": False, "value": "f16"}
    assert stored["load.gpuSplitConfig"] == {
        "strategy": "priorityOrder",
        "disabledGpus": [0],
        "priority": [1],
        "customRatio": [],
    }


def test_raw_list_loaded_includes_ttl_and_last_used_time(client: lms.Client) -> None:
    client.llm.load_new_instance(GEMMA, ttl=120, config={"contextLength": 1024})
    client.llm.load_new_instance(GEMMA, ttl=None)
    raw = client.llm.remote_call("listLoaded")
    assert [(i["identifier"], i["ttlMs"], i["contextLength"]) for i in raw] == [
        (GEMMA, 120000, 1024),
        (f"{GEMMA}:2", None, 2048),
    ]
    for info in raw:
        assert info["modelKey"] == GEMMA
        assert isinstance(info["lastUsedTime"], int)
        assert info["instanceReference"]


def test_unload_by_handle_and_by_identifier(client: lms.Client) -> None:
    first = client.llm.load_new_instance(GEMMA)
    client.llm.load_new_instance(GEMMA)
    first.unload()
    assert [m.identifier for m in client.llm.list_loaded()] == [f"{GEMMA}:2"]
    client.llm.unload(f"{GEMMA}:2")
    assert client.llm.list_loaded() == []
    with pytest.raises(lms.LMStudioModelNotFoundError):
        first.get_info()  # a handle of an unloaded instance


def test_unload_of_unknown_identifier_is_identifier_not_found(client: lms.Client) -> None:
    client.llm.load_new_instance(GEMMA)
    with pytest.raises(lms.LMStudioServerError, match="RPC error") as caught:
        client.llm.unload("nope")
    display = _raw_error(caught.value)["displayData"]
    assert display["code"] == "generic.identifierNotFound"
    assert display["loadedModelsSample"] == [GEMMA]


def test_ttl_of_zero_is_rejected(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioServerError, match="Invalid ttlMs"):
        client.llm.load_new_instance(GEMMA, ttl=0)
    assert client.llm.list_loaded() == []


def test_downloaded_model_handle_loads(client: lms.Client) -> None:
    (gemma,) = [m for m in client.llm.list_downloaded() if m.model_key == GEMMA]
    assert gemma.load_new_instance(instance_identifier="via-downloaded").identifier == (
        "via-downloaded"
    )
    assert gemma.model().identifier == GEMMA
