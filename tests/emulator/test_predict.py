"""Predictions, tokens and embeddings through the unmodified SDK."""

from __future__ import annotations

import json
from typing import Any

import lmstudio as lms
import pytest
from pydantic import BaseModel

from lmsprofiles.emulator import Emulator
from tests.emulator.conftest import GEMMA, NOMIC, QWEN

FULL_REPLY = "Echo: hello there. This is the LM Studio emulator speaking."


@pytest.fixture
def llm(client: lms.Client) -> lms.LLM:
    return client.llm.load_new_instance(QWEN, config={"contextLength": 4096})


def test_respond_is_deterministic_with_stats_and_configs(llm: lms.LLM) -> None:
    result = llm.respond("hello there")
    assert result.content == FULL_REPLY
    assert result.stats.stop_reason == "eosFound"
    assert result.stats.predicted_tokens_count == len(FULL_REPLY.split())
    assert result.stats.prompt_tokens_count is not None
    assert result.stats.total_tokens_count == (
        result.stats.prompt_tokens_count + result.stats.predicted_tokens_count
    )
    assert result.model_info.model_key == QWEN
    assert result.load_config.context_length == 4096
    assert result.prediction_config.temperature == 0.8
    assert llm.respond("hello there").content == result.content


def test_respond_honours_max_tokens(llm: lms.LLM) -> None:
    result = llm.respond("hello there", config={"maxTokens": 3, "temperature": 0.1})
    assert result.content == "Echo: hello there. "
    assert result.stats.stop_reason == "maxPredictedTokensReached"
    assert result.stats.predicted_tokens_count == 3
    assert result.prediction_config.max_tokens == 3
    assert result.prediction_config.temperature == 0.1


def test_max_tokens_false_means_no_limit(llm: lms.LLM) -> None:
    result = llm.respond("hello there", config={"maxTokens": False})
    assert result.content == FULL_REPLY
    assert result.prediction_config.max_tokens is None  # reported unchecked


def test_respond_honours_stop_strings(llm: lms.LLM) -> None:
    result = llm.respond("hello there", config={"stopStrings": ["LM Studio", "never"]})
    assert result.content == "Echo: hello there. This is the "
    assert result.stats.stop_reason == "stopStringFound"
    assert result.prediction_config.stop_strings == ["LM Studio", "never"]


def test_stop_string_after_the_token_limit_does_not_apply(llm: lms.LLM) -> None:
    result = llm.respond("hello there", config={"stopStrings": ["emulator"], "maxTokens": 2})
    assert result.content == "Echo: hello "
    assert result.stats.stop_reason == "maxPredictedTokensReached"


def test_chat_history_answers_the_last_user_message(llm: lms.LLM) -> None:
    chat = lms.Chat("You are terse.")
    chat.add_user_message("first")
    chat.add_assistant_response("ok")
    chat.add_user_message("second question")
    assert llm.respond(chat).content.startswith("Echo: second question. ")


def test_complete(llm: lms.LLM) -> None:
    result = llm.complete("Once upon", config={"maxTokens": 3})
    assert result.content == "Echo: Once upon. "
    assert result.stats.stop_reason == "maxPredictedTokensReached"


def test_respond_stream_yields_fragments_and_prompt_progress(llm: lms.LLM) -> None:
    progress: list[float] = []
    stream = llm.respond_stream("stream me", on_prompt_processing_progress=progress.append)
    fragments = [fragment.content for fragment in stream]
    assert fragments[:3] == ["Echo: ", "stream ", "me. "]
    assert "".join(fragments) == stream.result().content
    assert progress == [0.0, 1.0]


def test_cancelled_stream_stops_with_user_stopped(
    llm: lms.LLM, lmstudio_emulator: Emulator
) -> None:
    lmstudio_emulator.token_seconds = 0.05
    stream = llm.respond_stream("cancel me please now")
    received: list[str] = []
    for fragment in stream:
        received.append(fragment.content)
        if len(received) == 2:
            stream.cancel()
    assert received == ["Echo: ", "cancel "]
    assert stream.result().stats.stop_reason == "userStopped"


def test_context_overflow_stop_at_limit(client: lms.Client) -> None:
    tiny = client.llm.load_new_instance(GEMMA, config={"contextLength": 8})
    result = tiny.respond("one two three", config={"contextOverflowPolicy": "stopAtLimit"})
    assert result.stats.stop_reason == "contextLengthReached"
    stats = result.stats
    assert (stats.prompt_tokens_count or 0) + (stats.predicted_tokens_count or 0) <= 8


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 6},
        "age": {"type": "integer", "minimum": 18},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "score": {"type": "number", "maximum": 0.5},
        "active": {"type": "boolean"},
        "nickname": {"anyOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": ["name", "age"],
}


def test_structured_output_with_a_json_schema(llm: lms.LLM) -> None:
    result = llm.respond("json please", response_format=_SCHEMA)
    assert result.parsed == {
        "name": "textxx",
        "age": 18,
        "tags": ["a"],
        "score": 0.5,
        "active": True,
        "nickname": "text",
    }
    assert json.loads(result.content) == result.parsed
    assert result.prediction_config.structured is not None
    assert result.prediction_config.structured.type == "json"


class Address(BaseModel):
    street: str
    number: int


class Person(BaseModel):
    name: str
    height: float
    addresses: list[Address]
    nickname: str | None = None


def test_structured_output_with_a_pydantic_class(llm: lms.LLM) -> None:
    result = llm.respond("who?", response_format=Person)
    assert isinstance(result.parsed, dict)
    person = Person.model_validate(result.parsed)
    assert person.addresses == [Address(street="text", number=1)]


def test_structured_output_through_config(llm: lms.LLM) -> None:
    config: lms.LlmPredictionConfigDict = {
        "structured": {"type": "json", "jsonSchema": {"type": "object", "properties": {}}}
    }
    result = llm.respond("x", config=config)
    assert result.parsed == {}


def test_count_tokens_and_tokenize(llm: lms.LLM) -> None:
    assert llm.count_tokens("a b c") == 3
    tokens = llm.tokenize("a b c")
    assert isinstance(tokens, list)
    assert len(tokens) == 3
    assert llm.tokenize("a b c") == tokens
    assert llm.tokenize("a") == tokens[:1]


def test_apply_prompt_template(llm: lms.LLM) -> None:
    chat = lms.Chat("system text")
    chat.add_user_message("hi")
    assert llm.apply_prompt_template(chat) == "<|system|>system text\n<|user|>hi\n<|assistant|>"


def test_prediction_on_unloaded_identifier_fails(client: lms.Client) -> None:
    handle = client.llm.load_new_instance(GEMMA)
    handle.unload()
    with pytest.raises(lms.LMStudioModelNotFoundError):
        handle.respond("hi")


def test_embedding_load_and_embed(client: lms.Client, lmstudio_emulator: Emulator) -> None:
    model = client.embedding.load_new_instance(NOMIC)
    assert model.identifier == NOMIC
    vector = model.embed("hello")
    assert isinstance(vector, list)
    assert len(vector) == 768
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-9
    assert model.embed("hello") == vector
    assert model.embed("other") != vector
    assert model.get_context_length() == 2048
    assert model.count_tokens("a b") == 2
    assert model.get_load_config().to_dict()["contextLength"] == 2048
    assert [m.identifier for m in client.embedding.list_loaded()] == [NOMIC]
    assert client.llm.list_loaded() == []
    assert lmstudio_emulator.instance(NOMIC).type == "embedding"


def test_embedding_get_or_load(client: lms.Client) -> None:
    model = client.embedding.model(NOMIC, config={"contextLength": 512})
    assert model.get_context_length() == 512
    assert client.embedding.model(NOMIC).identifier == NOMIC
