"""The KV-key table agrees with lmstudio SDK 1.5's own mapping and with the profile schema."""

from __future__ import annotations

from lmstudio import _kv_config as sdk

from lmsprofiles import _fields as f
from lmsprofiles import _fieldtable as t
from lmsprofiles._interop._kv import KV_KEYS, field_key, kv_key
from lmsprofiles._keys import fields_of


def _sdk_fields(field: sdk.ConfigField) -> tuple[str, ...]:
    if isinstance(field, sdk.NestedKeyField):
        return (f"{field.client_key}.{field.nested_key}",)
    if isinstance(field, sdk.MultiPartField):
        return tuple(f"{field.client_key}.{k}" for k in field.nested_keys)
    return (field.client_key,)


def test_every_key_the_sdk_maps_is_in_the_table_with_the_same_fields() -> None:
    for domain, table in (
        ("llm", sdk.FROM_SERVER_LOAD_LLM),
        ("embedding", sdk.FROM_SERVER_LOAD_EMBEDDING),
        ("llm", sdk.FROM_SERVER_PREDICTION),
    ):
        for key, field in table.items():
            entry = kv_key(key)
            assert entry is not None and entry.sdk, key
            assert domain in entry.domains, key
            assert sorted(entry.fields) == sorted(_sdk_fields(field)), key
            assert entry.checkbox == isinstance(field, sdk.CheckboxField), key


def test_every_key_the_table_says_the_sdk_maps_is_mapped_by_it() -> None:
    mapped = set(sdk.FROM_SERVER_CONFIG)
    assert {k.key for k in KV_KEYS if k.sdk} == mapped
    assert len({k.key for k in KV_KEYS}) == len(KV_KEYS)  # no key twice


def test_the_table_covers_every_profile_field_and_agrees_with_the_wire_tables() -> None:
    for domain, section, model, wire in (
        ("llm", "load", f.LlmLoad, t.WIRE_LOAD),
        ("embedding", "load", f.EmbeddingLoad, t.WIRE_EMBEDDING_LOAD),
        ("llm", "inference", f.Inference, t.WIRE_INFERENCE),
    ):
        names = [
            f"gpu.{sub}" if name == "gpu" else name
            for name, fld in fields_of(model).items()
            for sub in (fields_of(f.Gpu) if name == "gpu" else [None])
        ]
        for name in names:
            entry = field_key(section, name, domain)  # type: ignore[arg-type]
            assert entry is not None, (domain, name)
            assert wire[name].key == entry.key, (domain, name)
            assert wire[name].checkbox == entry.checkbox, (domain, name)


def test_keys_profiles_cannot_carry_say_why() -> None:
    parallel = kv_key("llm.load.numParallelSessions")
    assert parallel is not None and not parallel.sdk
    assert parallel.reason == (
        "'maxParallelPredictions' is not supported by lmstudio SDK 1.5, so profiles cannot carry it"
    )
    prompt = kv_key("llm.prediction.systemPrompt")
    assert prompt is not None
    assert prompt.reason == "no lmstudio SDK has a field for it, so profiles cannot carry it"
