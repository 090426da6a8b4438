"""The executor against an in-memory LM Studio (pure planner/executor logic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lmsprofiles._errors import LMStudioError
from lmsprofiles._reconcile._apply import ApplyResult, apply_plan
from lmsprofiles._reconcile._model import (
    DesiredInstance,
    Kind,
    ObservedInstance,
    OwnershipRecord,
)
from lmsprofiles._reconcile._ownership import State
from lmsprofiles._reconcile._plan import make_plan


class FakeLMStudio:
    """Loaded instances in a dict; loads of ``fail`` model keys raise."""

    def __init__(self, fail: frozenset[str] = frozenset()) -> None:
        self.instances: dict[str, ObservedInstance] = {}
        self.fail = fail
        self.calls: list[str] = []

    def observe(self) -> list[ObservedInstance]:
        return list(self.instances.values())

    def load(
        self, desired: DesiredInstance, on_progress: Callable[[float], None] | None = None
    ) -> str:
        self.calls.append(f"load {desired.identifier}")
        if desired.model_key in self.fail:
            raise LMStudioError("out of memory")
        if on_progress:
            on_progress(1.0)
        ctx = desired.load.get("contextLength")
        self.instances[desired.identifier] = ObservedInstance(
            desired.identifier,
            desired.model_key,
            desired.kind,
            ctx,
            None,
            None if desired.ttl is None else desired.ttl * 1000,
            dict(desired.load),
        )
        return desired.identifier

    def unload(self, identifier: str, kind: Kind) -> None:
        self.calls.append(f"unload {identifier}")
        del self.instances[identifier]


class Saved:
    def __init__(self) -> None:
        self.records: dict[str, OwnershipRecord] = {}
        self.states: list[State] = []

    def __call__(self, state: State) -> None:
        self.states.append(state)
        self.records = dict(state.records)


A = DesiredInstance("a", "model-a", "llm", {"contextLength": 4096}, None)
B = DesiredInstance("b", "model-b", "llm", {"contextLength": 2048}, 600)


def run(
    lms: FakeLMStudio,
    desired: list[DesiredInstance],
    owned: dict[str, OwnershipRecord],
    *,
    prune: bool = False,
) -> tuple[Saved, ApplyResult]:
    saved = Saved()
    saved.records = dict(owned)
    plan = make_plan(desired, lms.observe(), owned, prune=prune)
    return saved, apply_plan(plan, desired, lms, saved)


def test_fresh_apply_loads_records_and_verifies() -> None:
    lms = FakeLMStudio()
    saved, result = run(lms, [A, B], {})
    assert result.ok
    assert set(saved.records) == {"a", "b"}
    assert saved.records["b"].ttl == 600
    again = make_plan([A, B], lms.observe(), saved.records)
    assert not again.changes_pending


def test_unloads_happen_before_loads() -> None:
    lms = FakeLMStudio()
    _, _ = run(lms, [A], {})
    owned = {"a": OwnershipRecord("a", "model-a", "llm")}
    lms.calls.clear()
    changed = replace(A, load={"contextLength": 8192})
    saved, result = run(lms, [changed, B], owned)
    assert lms.calls == ["unload a", "load a", "load b"]
    assert result.ok
    assert lms.instances["a"].context_length == 8192
    assert set(saved.records) == {"a", "b"}


def test_failed_load_is_reported_and_the_rest_proceeds() -> None:
    lms = FakeLMStudio(fail=frozenset({"model-a"}))
    saved, result = run(lms, [A, B], {})
    failures = result.failures
    assert [(f.identifier, f.action) for f in failures] == [("a", "load")]
    assert "out of memory" in failures[0].message
    assert set(saved.records) == {"b"}
    lms.fail = frozenset()
    again = make_plan([A, B], lms.observe(), saved.records)
    assert [type(x).__name__ for x in again.actions] == ["Load", "Reuse"]


def test_prune_unloads_owned_and_forgets_it() -> None:
    lms = FakeLMStudio()
    saved, _ = run(lms, [A, B], {})
    saved2, result = run(lms, [A], saved.records, prune=True)
    assert result.ok
    assert set(lms.instances) == {"a"}
    assert set(saved2.records) == {"a"}


def test_vanished_instances_are_forgotten() -> None:
    lms = FakeLMStudio()
    saved, _ = run(lms, [A, B], {})
    del lms.instances["b"]
    saved2, result = run(lms, [A, B], saved.records)
    assert result.ok
    assert set(saved2.records) == {"a", "b"}
    assert lms.calls[-1] == "load b"
