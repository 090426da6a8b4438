"""Semantic comparison rules (docs/fields.md, "Comparing a loaded instance with a profile")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmsprofiles._reconcile._compare import compare, values_equal
from lmsprofiles._reconcile._model import UNKNOWN, DesiredInstance, ObservedInstance


def desired(load: dict[str, Any] | None = None, ttl: int | None = None) -> DesiredInstance:
    return DesiredInstance(
        "chat",
        "qwen/qwen3-8b",
        "llm",
        load or {},
        ttl,
        {"load.contextLength": "profiles/models/chat.yaml:4:3"},
    )


def observed(
    load: dict[str, Any] | None = None,
    context_length: int | None = None,
    ttl_ms: Any = None,
    model_key: str = "qwen/qwen3-8b",
) -> ObservedInstance:
    return ObservedInstance("chat", model_key, "llm", context_length, 32768, ttl_ms, load or {})


def paths(load: dict[str, Any], seen: dict[str, Any], **kw: Any) -> list[str]:
    return [d.path for d in compare(desired(load), observed(seen, **kw)).reload_reasons]


def test_identical_config_is_satisfied() -> None:
    load = {"contextLength": 4096, "flashAttention": True, "gpu": {"ratio": 0.5}}
    result = compare(desired(load), observed(load, context_length=4096))
    assert result.satisfied
    assert result.differences == ()


@pytest.mark.parametrize(("want", "have"), [("max", 1), ("max", 1.0), ("off", 0), (1, "max")])
def test_gpu_ratio_words_equal_numbers(want: Any, have: Any) -> None:
    assert paths({"gpu": {"ratio": want}}, {"gpu": {"ratio": have}}) == []


def test_gpu_ratio_change_forces_reload() -> None:
    assert paths({"gpu": {"ratio": "max"}}, {"gpu": {"ratio": 0.5}}) == ["load.gpu.ratio"]


def test_checkbox_false_equals_absent() -> None:
    assert paths({"seed": False, "llamaKCacheQuantizationType": False}, {}) == []


def test_checkbox_value_against_absent_forces_reload() -> None:
    result = compare(desired({"seed": 7}), observed({}))
    [reason] = result.reload_reasons
    assert (reason.path, reason.desired, reason.observed) == ("load.seed", 7, False)


def test_unreported_plain_field_is_not_verified_and_never_reloads() -> None:
    result = compare(desired({"evalBatchSize": 512}), observed({}))
    assert result.satisfied
    [note] = result.notes
    assert note.observed is UNKNOWN
    assert "not reported" in note.note


def test_numbers_compare_numerically_and_booleans_are_not_numbers() -> None:
    assert values_equal(40, 40.0)
    assert values_equal(0.1 + 0.2, 0.3)
    assert not values_equal(True, 1)
    assert not values_equal(1, True)
    assert paths({"evalBatchSize": 512}, {"evalBatchSize": 512.0}) == []
    assert paths({"evalBatchSize": 512}, {"evalBatchSize": 1024}) == ["load.evalBatchSize"]


def test_disabled_gpus_compare_as_a_set_absent_meaning_none() -> None:
    assert paths({"gpu": {"disabledGpus": [1, 0]}}, {"gpu": {"disabledGpus": [0, 1]}}) == []
    assert paths({"gpu": {"disabledGpus": []}}, {"gpu": {}}) == []
    assert paths({"gpu": {"disabledGpus": [1]}}, {"gpu": {}}) == ["load.gpu.disabledGpus"]


def test_gpu_split_field_not_reported_is_not_verified() -> None:
    result = compare(desired({"gpu": {"mainGpu": 1}}), observed({"gpu": {"ratio": 1}}))
    assert result.satisfied
    assert [d.path for d in result.notes] == ["load.gpu.mainGpu"]


def test_context_length_edit_forces_reload_with_origin() -> None:
    result = compare(
        desired({"contextLength": 8192}), observed({"contextLength": 4096}, context_length=4096)
    )
    [reason] = result.reload_reasons
    assert (reason.observed, reason.desired) == (4096, 8192)
    assert reason.origin == "profiles/models/chat.yaml:4:3"


def test_context_fitted_by_server_is_kept_under_warn_policy() -> None:
    want, have = (
        desired({"contextLength": 65536}),
        observed({"contextLength": 65536}, context_length=32768),
    )
    warned = compare(want, have)
    assert warned.satisfied
    [note] = warned.notes
    assert "32768" in note.note and "model maximum 32768" in note.note
    assert not compare(want, have, context_policy="reload").satisfied


def test_context_compared_with_actual_when_config_silent() -> None:
    assert paths({"contextLength": 4096}, {}, context_length=4096) == []
    assert paths({"contextLength": 4096}, {}, context_length=2048) == ["load.contextLength"]


def test_ttl_change_forces_reload_with_explanation() -> None:
    result = compare(desired(ttl=600), observed(ttl_ms=3_600_000))
    [reason] = result.reload_reasons
    assert (reason.path, reason.observed, reason.desired) == ("ttl", 3600, 600)
    assert "cannot be changed" in reason.note
    assert compare(desired(ttl=None), observed(ttl_ms=None)).satisfied
    assert compare(desired(ttl=600), observed(ttl_ms=600_000)).satisfied


def test_ttl_falls_back_to_recorded_value_when_server_is_silent() -> None:
    assert compare(desired(ttl=600), observed(ttl_ms=UNKNOWN)).satisfied
    assert not compare(desired(ttl=600), observed(ttl_ms=UNKNOWN), recorded_ttl=None).satisfied
    assert compare(desired(ttl=600), observed(ttl_ms=UNKNOWN), recorded_ttl=600).satisfied
    assert compare(desired(ttl=600), observed(ttl_ms=1), check_ttl=False).satisfied


def test_other_model_key_forces_reload() -> None:
    assert paths({}, {}, model_key="google/gemma-3-1b") == ["model"]


def test_only_fields_the_profile_sets_are_compared() -> None:
    assert paths({"contextLength": None}, {"contextLength": 1, "seed": 3}) == []


scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(max_size=5),
)
loads = st.dictionaries(
    st.sampled_from(["contextLength", "evalBatchSize", "flashAttention", "seed", "tryMmap"]),
    scalars,
)


@given(loads)
def test_a_config_always_satisfies_itself(load: dict[str, Any]) -> None:
    length = load.get("contextLength")
    actual = length if isinstance(length, int) and not isinstance(length, bool) else None
    assert compare(desired(load), observed(load, context_length=actual)).satisfied


@given(st.floats(0, 1), st.floats(0, 1))
def test_ratio_comparison_is_symmetric(a: float, b: float) -> None:
    forward = paths({"gpu": {"ratio": a}}, {"gpu": {"ratio": b}})
    backward = paths({"gpu": {"ratio": b}}, {"gpu": {"ratio": a}})
    assert forward == backward
