"""The planner and its text/JSON rendering, on in-memory instances."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lmsprofiles._reconcile._model import (
    DesiredInstance,
    DownloadedModel,
    Kind,
    ObservedInstance,
    OwnershipRecord,
)
from lmsprofiles._reconcile._ownership import Intent
from lmsprofiles._reconcile._plan import (
    Adopt,
    Conflict,
    Invalid,
    Leave,
    Load,
    Reload,
    Reuse,
    Unload,
    action_name,
    make_plan,
)
from lmsprofiles._reconcile._render import plan_document, render_plan

CHAT = DesiredInstance("chat", "qwen/qwen3-8b", "llm", {"contextLength": 8192}, None)
EMBED = DesiredInstance("embed", "nomic", "embedding", {"contextLength": 2048}, None)


def seen(identifier: str, key: str, ctx: int = 8192, **kw: Any) -> ObservedInstance:
    kind = kw.pop("kind", "llm")
    return ObservedInstance(
        identifier, key, kind, ctx, 32768, kw.pop("ttl_ms", None), {"contextLength": ctx}
    )


def mine(*instances: ObservedInstance) -> dict[str, OwnershipRecord]:
    return {o.identifier: OwnershipRecord(o.identifier, o.model_key, o.kind) for o in instances}


def kinds(plan: Any) -> list[tuple[str, str]]:
    return [(action_name(a), type(a).__name__) for a in plan.actions]


def test_fresh_host_loads_everything() -> None:
    plan = make_plan([EMBED, CHAT], [], {})
    assert [type(a) for a in plan.actions] == [Load, Load]
    assert [a.desired.identifier for a in plan.actions if isinstance(a, Load)] == ["chat", "embed"]
    assert plan.changes_pending
    assert plan.summary["load"] == 2


def test_converged_host_reuses_and_is_a_no_op() -> None:
    chat = seen("chat", "qwen/qwen3-8b")
    embed = seen("embed", "nomic", 2048, kind="embedding")
    plan = make_plan([CHAT, EMBED], [chat, embed], mine(chat, embed))
    assert [type(a) for a in plan.actions] == [Reuse, Reuse]
    assert not plan.changes_pending
    assert plan.diagnostics == ()


def test_changed_context_reloads() -> None:
    chat = seen("chat", "qwen/qwen3-8b", 4096)
    [action] = make_plan([CHAT], [chat], mine(chat)).actions
    assert isinstance(action, Reload)
    assert [d.path for d in action.comparison.reload_reasons] == ["load.contextLength"]


def test_removed_profile_is_left_without_prune_and_unloaded_with_it() -> None:
    old = seen("old", "google/gemma-3-1b")
    [kept] = make_plan([], [old], mine(old)).actions
    assert isinstance(kept, Leave) and kept.owned and "--prune" in kept.reason
    [gone] = make_plan([], [old], mine(old), prune=True).actions
    assert isinstance(gone, Unload)


def test_foreign_instances_are_never_touched_even_with_prune() -> None:
    other = seen("phi", "microsoft/phi-4")
    [action] = make_plan([], [other], {}, prune=True).actions
    assert isinstance(action, Leave) and not action.owned


def test_foreign_instance_holding_a_desired_identifier_is_a_conflict() -> None:
    foreign = seen("chat", "qwen/qwen3-8b")
    plan = make_plan([CHAT], [foreign], {}, prune=True)
    [action] = plan.actions
    assert isinstance(action, Conflict)
    assert "`lmsprofiles adopt chat` takes it over" in action.reason
    assert [d.severity for d in plan.diagnostics] == ["error"]
    assert not plan.changes_pending
    assert plan.status == "blocked"


def test_replaced_instance_with_our_identifier_is_not_ours() -> None:
    replaced = seen("chat", "google/gemma-3-1b")
    records = {"chat": OwnershipRecord("chat", "qwen/qwen3-8b", "llm")}
    [action] = make_plan([CHAT], [replaced], records).actions
    assert isinstance(action, Conflict)
    assert "replaced" in action.reason


def test_duplicates_of_a_managed_model_are_reported() -> None:
    chat = seen("chat", "qwen/qwen3-8b")
    dup = seen("qwen/qwen3-8b:2", "qwen/qwen3-8b")
    plan = make_plan([CHAT], [chat, dup], mine(chat), prune=True)
    assert [type(a) for a in plan.actions] == [Reuse, Leave]
    [warning] = plan.diagnostics
    assert warning.identifier == "qwen/qwen3-8b:2" and "duplicate" in warning.message


def test_vanished_owned_instance_is_loaded_again_and_its_record_is_stale() -> None:
    records = {"chat": OwnershipRecord("chat", "qwen/qwen3-8b", "llm")}
    plan = make_plan([CHAT], [], records)
    assert [type(a) for a in plan.actions] == [Load]
    assert [r.identifier for r in plan.stale_records] == ["chat"]


def test_fitted_context_is_a_warning_not_a_reload() -> None:
    big = DesiredInstance("chat", "qwen/qwen3-8b", "llm", {"contextLength": 32768}, None)
    chat = ObservedInstance(
        "chat", "qwen/qwen3-8b", "llm", 16384, 40960, None, {"contextLength": 32768}
    )
    plan = make_plan([big], [chat], mine(chat))
    assert [type(a) for a in plan.actions] == [Reuse]
    assert [d.severity for d in plan.diagnostics] == ["warning"]
    assert type(make_plan([big], [chat], mine(chat), context_policy="reload").actions[0]) is Reload


DOWNLOADED = [
    DownloadedModel("qwen/qwen3-8b", "llm", "q/qwen3-8b.gguf", 40960),
    DownloadedModel("nomic", "embedding", "n/nomic.gguf", 2048),
]


def test_preflight_blocks_a_model_that_is_not_downloaded_and_keeps_the_instance() -> None:
    typo = DesiredInstance(
        "chat", "qwen/qwen3-8B", "llm", {"contextLength": 8192}, None, {"model": "m.yaml:1:8"}
    )
    chat = seen("chat", "qwen/qwen3-8b")
    plan = make_plan([typo, EMBED], [chat], mine(chat), downloaded=DOWNLOADED)
    invalid, load = plan.actions
    assert isinstance(invalid, Invalid) and invalid.observed == chat
    assert invalid.reason == (
        "model 'qwen/qwen3-8B' is not downloaded on this host [m.yaml:1:8]; did you mean "
        "'qwen/qwen3-8b'?; the loaded instance is kept"
    )
    assert isinstance(load, Load)
    assert plan.status == "blocked" and plan.changes_pending
    assert render_plan(plan, host="h:1").count("x   chat") == 1


def test_preflight_context_above_the_maximum_and_wrong_type() -> None:
    big = DesiredInstance("big", "qwen/qwen3-8b", "llm", {"contextLength": 65536}, None)
    [action] = make_plan([big], [], {}, downloaded=DOWNLOADED).actions
    assert isinstance(action, Invalid)
    assert "load.contextLength 65536 exceeds the maximum of qwen/qwen3-8b (40960)" in action.reason
    wrong = DesiredInstance("e", "nomic", "llm", {}, None)
    [action] = make_plan([wrong], [], {}, downloaded=DOWNLOADED).actions
    assert isinstance(action, Invalid) and "is an embedding model" in action.reason
    ok = make_plan([CHAT, EMBED], [], {}, downloaded=DOWNLOADED)
    assert [type(a) for a in ok.actions] == [Load, Load]


def test_adopt_takes_over_only_matching_instances() -> None:
    fits = seen("chat", "qwen/qwen3-8b")
    other = seen("embed", "google/gemma-3-1b")
    plan = make_plan([CHAT, EMBED], [fits, other], {}, adopt=True)
    adopt, conflict = plan.actions
    assert isinstance(adopt, Adopt) and not adopt.reloads
    assert isinstance(conflict, Conflict)
    assert plan.changes_pending and plan.status == "blocked"
    misfit = seen("chat", "qwen/qwen3-8b", 4096)
    [adopt] = make_plan([CHAT], [misfit], {}, adopt=["chat"]).actions
    assert isinstance(adopt, Adopt) and adopt.reloads
    [conflict] = make_plan([CHAT], [misfit], {}, adopt=["other"]).actions
    assert isinstance(conflict, Conflict)


def test_an_interrupted_load_is_resolved_as_ours_only_if_it_matches() -> None:
    chat = seen("chat", "qwen/qwen3-8b")
    intents = {"chat": Intent.loading(CHAT)}
    plan = make_plan([CHAT], [chat], {}, intents=intents)
    assert [type(a) for a in plan.actions] == [Reuse]
    assert "interrupted load" in plan.diagnostics[0].message
    assert plan.resolved_intents and "chat" in plan.state.records
    other = seen("chat", "qwen/qwen3-8b", 2048)
    plan = make_plan([CHAT], [other], {}, intents=intents)
    assert [type(a) for a in plan.actions] == [Conflict]


def test_text_rendering_uses_terraform_like_symbols() -> None:
    chat = seen("chat", "qwen/qwen3-8b", 4096)
    old = seen("old", "google/gemma-3-1b")
    phi = seen("phi", "microsoft/phi-4")
    text = render_plan(
        make_plan([CHAT, EMBED], [chat, old, phi], mine(chat, old), prune=True), host="h:1"
    )
    assert "Plan for LM Studio at h:1" in text
    assert "-/+ chat" in text
    assert "~ load.contextLength  4096 -> 8192  # forces reload" in text
    assert "+   embed" in text and "+ load.contextLength = 2048" in text
    assert "-   old" in text and "?   phi" in text
    assert text.rstrip().endswith(
        "Plan: 1 to load, 1 to reload, 0 to reuse, 1 to unload, 1 left alone."
    )


def test_json_document_shape() -> None:
    chat = seen("chat", "qwen/qwen3-8b", 4096)
    want = DesiredInstance(
        "chat",
        "qwen/qwen3-8b",
        "llm",
        {"contextLength": 8192},
        None,
        {"load.contextLength": "profiles/models/chat.yaml:4:3"},
    )
    doc = plan_document(make_plan([want], [chat], mine(chat)), host="h:1")
    json.dumps(doc)
    assert doc["format_version"] == "1"
    assert doc["status"] == "changes_pending"
    [action] = doc["actions"]
    assert action["action"] == "reload" and action["symbol"] == "-/+"
    assert action["reasons"] == [
        {
            "path": "load.contextLength",
            "before": 4096,
            "after": 8192,
            "forces_reload": True,
            "note": None,
            "origin": "profiles/models/chat.yaml:4:3",
        }
    ]
    assert doc["summary"]["reload"] == 1


_MODELS: dict[str, tuple[Kind, int]] = {
    "qwen/qwen3-8b": ("llm", 40960),
    "nomic": ("embedding", 2048),
    "gone": ("llm", 4096),
}
_CATALOG = [m for m in DOWNLOADED if m.model_key in _MODELS]  # "gone" is not downloaded


@st.composite
def _hosts(draw: st.DrawFn) -> tuple[list[DesiredInstance], list[ObservedInstance], Any]:
    """Profiles and a host: the same few identifiers, models and context lengths, loaded
    instances reporting their model's maximum as LM Studio does, some of them ours."""
    names = ["chat", "embed", "code"]
    contexts = st.sampled_from([2048, 8192, 32768, 50000])
    desired, observed = [], []
    for name in draw(st.lists(st.sampled_from(names), unique=True)):
        model = draw(st.sampled_from(sorted(_MODELS)))
        desired.append(
            DesiredInstance(name, model, _MODELS[model][0], {"contextLength": draw(contexts)}, None)
        )
    for name in draw(st.lists(st.sampled_from(names), unique=True)):
        model = draw(st.sampled_from(sorted(_MODELS)))
        kind, maximum = _MODELS[model]
        ctx = draw(contexts)
        load = {"contextLength": ctx}
        observed.append(ObservedInstance(name, model, kind, ctx, maximum, None, load))
    owned = mine(*[o for o in observed if draw(st.booleans())])
    return desired, observed, owned


@given(_hosts(), st.booleans(), st.booleans())
def test_a_plan_that_loads_nothing_is_the_same_without_the_downloaded_models(
    host: tuple[list[DesiredInstance], list[ObservedInstance], Any], prune: bool, adopt: bool
) -> None:
    desired, observed, owned = host
    unchecked = make_plan(desired, observed, owned, prune=prune, adopt=adopt)
    checked = make_plan(desired, observed, owned, prune=prune, adopt=adopt, downloaded=_CATALOG)
    if not unchecked.needs_downloaded:
        assert checked == unchecked


def test_which_plans_need_the_downloaded_models() -> None:
    chat, small = seen("chat", "qwen/qwen3-8b"), seen("chat", "qwen/qwen3-8b", 4096)
    big = DesiredInstance("chat", "qwen/qwen3-8b", "llm", {"contextLength": 65536}, None)
    assert make_plan([CHAT], [], {}).needs_downloaded  # a load
    assert make_plan([CHAT], [small], mine(chat)).needs_downloaded  # a reload
    assert make_plan([CHAT], [small], {}, adopt=True).needs_downloaded  # adopt, then reload
    assert make_plan([big], [chat], mine(chat)).needs_downloaded  # invalid
    assert not make_plan([CHAT], [chat], mine(chat)).needs_downloaded  # reuse
    assert not make_plan([], [chat], mine(chat), prune=True).needs_downloaded  # unload only
    assert not make_plan([CHAT], [chat], {}, adopt=True).needs_downloaded  # adopt as it is
    assert not make_plan([CHAT], [chat], {}).needs_downloaded  # a conflict
