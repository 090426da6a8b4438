"""Instances loaded on an LM Studio host to model profiles (pure).

Each instance becomes a profile with its model key, identifier, type, ttl and every load
field the host reports, so that ``plan`` against that host finds the instance satisfying the
profile. Checkbox fields the host reports as off (it leaves them out) are written as
``false``, so that a value in ``global.yaml`` cannot turn them on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmsprofiles._interop._draft import Draft, file_stem
from lmsprofiles._interop._kv import KV_KEYS, Converted, Skipped, check_values
from lmsprofiles._reconcile._model import Unknown

__all__ = ["drafts_from_instances"]


def drafts_from_instances(instances: Sequence[Any], host: str) -> list[Draft]:
    """One model profile per observed instance (``ObservedInstance`` values)."""
    drafts: list[Draft] = []
    for instance in sorted(instances, key=lambda i: i.identifier):
        stem = file_stem(instance.identifier.replace(":", "-"))
        body: dict[str, Any] = {"model": instance.model_key}
        notes: dict[str, str] = {}
        if instance.identifier != stem:
            body["identifier"] = instance.identifier
        if instance.kind == "embedding":
            body["type"] = "embedding"
        skipped: list[Skipped] = []
        if isinstance(instance.ttl_ms, Unknown):
            skipped.append(
                Skipped("ttl", None, "the host does not report the instance's ttl; none written")
            )
        else:
            body["ttl"] = None if instance.ttl_ms is None else round(instance.ttl_ms / 1000)
            if instance.ttl_ms is None:
                notes["ttl"] = "no idle expiry"
        converted = Converted(load=_with_off_fields(instance.load, instance.kind))
        check_values(converted, instance.kind)
        skipped += [Skipped("load", None, message) for _, message in converted.problems]
        if instance.context_length is not None and instance.context_length != converted.load.get(
            "contextLength"
        ):
            notes["load.contextLength"] = (
                f"asked for; LM Studio runs it with {instance.context_length}"
            )
        body["load"] = converted.load
        what = f"the instance {instance.identifier!r} loaded on {host}"
        drafts.append(Draft("models", stem, body, what, skipped, notes))
    return drafts


def _with_off_fields(load: Any, kind: str) -> dict[str, Any]:
    values = dict(load)
    for entry in KV_KEYS:
        if entry.sdk and entry.checkbox and entry.section == "load" and kind in entry.domains:
            values.setdefault(entry.fields[0], False)
    return values
