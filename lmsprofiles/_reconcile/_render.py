"""Plan output: Terraform-like text for people and a versioned JSON document for scripts.

Symbols: ``+`` load, ``-/+`` reload, ``=`` reuse, ``-`` unload, ``?`` leave (not ours, or ours
without ``--prune``), ``!`` conflict, ``<=`` adopt, ``x`` invalid (preflight). The JSON format
is documented in docs/plan-json.md; bump :data:`FORMAT_VERSION` on any incompatible change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from lmsprofiles._reconcile._apply import ApplyResult
from lmsprofiles._reconcile._compare import Difference
from lmsprofiles._reconcile._model import UNKNOWN, DesiredInstance, ObservedInstance, Unknown
from lmsprofiles._reconcile._plan import (
    Action,
    ActionName,
    Adopt,
    Conflict,
    Invalid,
    Leave,
    Load,
    Plan,
    Reload,
    Reuse,
    Unload,
    action_name,
)

__all__ = [
    "FORMAT_VERSION",
    "SUMMARY_WORDS",
    "SYMBOLS",
    "action_document",
    "format_value",
    "plan_document",
    "render_plan",
    "render_result",
    "result_document",
    "summary_line",
]

FORMAT_VERSION: Final = "1"
SYMBOLS: Final[Mapping[ActionName, str]] = {
    "load": "+",
    "reload": "-/+",
    "reuse": "=",
    "unload": "-",
    "leave": "?",
    "conflict": "!",
    "adopt": "<=",
    "invalid": "x",
}
SUMMARY_WORDS: Final[Mapping[ActionName, str]] = {
    "load": "to load",
    "reload": "to reload",
    "reuse": "to reuse",
    "unload": "to unload",
    "leave": "left alone",
    "conflict": "in conflict",
    "adopt": "to adopt",
    "invalid": "invalid",
}


def format_value(value: Any) -> str:
    """A value as shown in text output (JSON spelling; ``UNKNOWN`` as ``(not reported)``)."""
    if value is UNKNOWN:
        return "(not reported)"
    return json.dumps(value, sort_keys=True)


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to load, 0 to reload, ...`` with every kind that occurs (load..unload always)."""
    counts = plan.summary
    shown = [
        f"{count} {SUMMARY_WORDS[name]}"
        for name, count in counts.items()
        if count or name in ("load", "reload", "reuse", "unload")
    ]
    return "Plan: " + ", ".join(shown) + "."


def render_plan(plan: Plan, *, host: str) -> str:
    """The plan as text, one block per action, then diagnostics and the summary line."""
    lines = [f"Plan for LM Studio at {host}", ""]
    if not plan.actions:
        lines.append("  (no profiles to deploy and no instances loaded)")
    width = max((len(_identifier(a)) for a in plan.actions), default=0)
    model_width = max((len(_model(a)) for a in plan.actions), default=0)
    for action in plan.actions:
        name = action_name(action)
        head = (
            f"  {SYMBOLS[name]:<3} {_identifier(action):<{width}}  "
            f"{_model(action):<{model_width}}  {name}"
        )
        message = _message(action)
        lines.append(f"{head}  ({message})" if message else head)
        lines.extend(f"        {line}" for line in _detail_lines(action))
    if plan.diagnostics:
        lines.append("")
        for diagnostic in plan.diagnostics:
            where = f"{diagnostic.identifier}: " if diagnostic.identifier else ""
            lines.append(f"{diagnostic.severity}: {where}{diagnostic.message}")
    lines += ["", summary_line(plan)]
    return "\n".join(lines) + "\n"


def plan_document(plan: Plan, *, host: str, command: str = "plan") -> dict[str, Any]:
    """The plan as the JSON-ready document described in docs/plan-json.md."""
    return {
        "format_version": FORMAT_VERSION,
        "command": command,
        "host": host,
        "status": plan.status,
        "changes_pending": plan.changes_pending,
        "prune": plan.prune,
        "context_policy": plan.context_policy,
        "actions": [action_document(a) for a in plan.actions],
        "summary": dict(plan.summary),
        "diagnostics": [
            {"severity": d.severity, "identifier": d.identifier, "message": d.message}
            for d in plan.diagnostics
        ],
        "stale_records": [r.identifier for r in plan.stale_records],
    }


def action_document(action: Action) -> dict[str, Any]:
    """One action as a JSON-ready mapping."""
    desired = _desired_of(action)
    observed = _observed_of(action)
    return {
        "action": action_name(action),
        "symbol": SYMBOLS[action_name(action)],
        "identifier": _identifier(action),
        "model": _model(action),
        "type": desired.kind if desired is not None else _must(observed).kind,
        "owned": _owned(action),
        "message": _message(action),
        "reasons": [_reason(d) for d in _differences(action)],
        "desired": None if desired is None else _desired_document(desired),
        "observed": None if observed is None else _observed_document(observed),
    }


def _must(observed: ObservedInstance | None) -> ObservedInstance:
    assert observed is not None
    return observed


def _desired_of(action: Action) -> DesiredInstance | None:
    match action:
        case Load() | Reload() | Reuse() | Conflict() | Adopt() | Invalid():
            return action.desired
        case Unload() | Leave():
            return None


def _observed_of(action: Action) -> ObservedInstance | None:
    match action:
        case Load():
            return None
        case Reload() | Reuse() | Conflict() | Unload() | Leave() | Adopt() | Invalid():
            return action.observed


def _identifier(action: Action) -> str:
    desired = _desired_of(action)
    return desired.identifier if desired is not None else _must(_observed_of(action)).identifier


def _model(action: Action) -> str:
    desired = _desired_of(action)
    return desired.model_key if desired is not None else _must(_observed_of(action)).model_key


def _owned(action: Action) -> bool:
    match action:
        case Reload() | Reuse() | Unload():
            return True
        case Leave(owned=owned):
            return owned
        case Load() | Conflict() | Adopt() | Invalid():
            return False


def _message(action: Action) -> str:
    match action:
        case Load() | Reuse():
            return ""
        case Reload(comparison=result):
            fields = ", ".join(d.path for d in result.reload_reasons)
            return f"{fields} changed"
        case Adopt(comparison=result):
            if not action.reloads:
                return "not loaded by lmsprofiles; matches the profile: taken over"
            fields = ", ".join(d.path for d in result.reload_reasons)
            return f"not loaded by lmsprofiles: taken over, then reloaded ({fields} changed)"
        case Unload(reason=reason) | Leave(reason=reason) | Conflict(reason=reason):
            return reason
        case Invalid(reason=reason):
            return reason


def _differences(action: Action) -> tuple[Difference, ...]:
    match action:
        case Reload(comparison=result) | Reuse(comparison=result) | Adopt(comparison=result):
            return result.differences
        case Load() | Unload() | Leave() | Conflict() | Invalid():
            return ()


def _detail_lines(action: Action) -> list[str]:
    match action:
        case Load(desired=want):
            lines = [
                f"+ {path} = {format_value(value)}" for path, value in _flatten(want.load, "load")
            ]
            ttl = "none (stays loaded)" if want.ttl is None else f"{want.ttl} s"
            return [*lines, f"+ ttl = {ttl}"]
        case Reload() | Reuse() | Adopt():
            return [_difference_line(d) for d in _differences(action)]
        case Unload() | Leave() | Conflict() | Invalid():
            return []


def _difference_line(d: Difference) -> str:
    line = f"~ {d.path}  {format_value(d.observed)} -> {format_value(d.desired)}"
    if d.forces_reload:
        line += "  # forces reload"
        if d.note:
            line += f": {d.note}"
    elif d.note:
        line += f"  # {d.note}"
    if d.origin:
        line += f"  [{d.origin}]"
    return line


def _flatten(mapping: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, value in sorted(mapping.items()):
        path = f"{prefix}.{key}"
        if key == "gpu" and isinstance(value, Mapping):
            found.extend(_flatten(value, path))
        elif value is not None:
            found.append((path, value))
    return found


def _reason(d: Difference) -> dict[str, Any]:
    reason: dict[str, Any] = {"path": d.path}
    if d.observed is not UNKNOWN:
        reason["before"] = d.observed
    reason |= {
        "after": d.desired,
        "forces_reload": d.forces_reload,
        "note": d.note or None,
        "origin": d.origin,
    }
    return reason


def _desired_document(want: DesiredInstance) -> dict[str, Any]:
    return {
        "load": dict(want.load),
        "ttl": want.ttl,
        "origins": dict(want.origins),
    }


def _observed_document(have: ObservedInstance) -> dict[str, Any]:
    document: dict[str, Any] = {
        "context_length": have.context_length,
        "max_context_length": have.max_context_length,
    }
    if not isinstance(have.ttl_ms, Unknown):
        document["ttl_ms"] = have.ttl_ms
    document["load"] = dict(have.load)
    return document


def render_result(result: ApplyResult, *, host: str, command: str = "reconcile") -> str:
    """What reconcile (or adopt) did, the failures, and whether the read-back state matches.

    The first line says ``Reconciled`` only when everything in the plan happened.
    """
    done = {"load": 0, "unload": 0, "adopt": 0}
    for step in result.steps:
        done[step.verb] = done.get(step.verb, 0) + 1
    counts = result.plan.summary
    if command == "adopt":
        names = ", ".join(s.identifier for s in result.steps if s.verb == "adopt")
        lines = [
            f"Adopted {done['adopt']} on LM Studio at {host}" + (f": {names}." if names else ".")
        ]
    else:
        adopted = f"{done['adopt']} adopted, " if done["adopt"] else ""
        counted = (
            f"{adopted}{done['load']} loaded, {done['unload']} unloaded, "
            f"{counts['reuse']} reused, {counts['leave']} left alone"
        )
        if result.failures:
            lines = [f"Reconcile of LM Studio at {host} was partial: {counted}."]
        else:
            lines = [f"Reconciled LM Studio at {host}: {counted}."]
        if done["adopt"]:
            loaded = {s.identifier for s in result.steps if s.verb == "load"}
            names = ", ".join(
                s.identifier + (" (reloaded to fit its profile)" if s.identifier in loaded else "")
                for s in result.steps
                if s.verb == "adopt"
            )
            lines.append(f"Adopted {done['adopt']}, now managed by lmsprofiles: {names}.")
    if result.failures:
        lines.append(f"{len(result.failures)} failed:")
        lines += [f"  {f.identifier}: {f.action}: {f.message}" for f in result.failures]
    elif command != "adopt":
        lines.append("Verified: the loaded instances match the profiles.")
    return "\n".join(lines) + "\n"


def result_document(
    result: ApplyResult, *, host: str, command: str = "reconcile"
) -> dict[str, Any]:
    """The plan document of ``result.plan`` plus a ``result`` member (docs/plan-json.md).

    ``status`` becomes ``failed`` if a step failed or did not stick, else ``blocked`` if a
    profile could not be applied, else ``applied`` when something changed.
    """
    document = plan_document(result.plan, host=host, command=command)
    blocked = {"conflict", "invalid"}
    if any(f.action not in blocked for f in result.failures):
        document["status"] = "failed"
    elif result.failures:
        document["status"] = "blocked"
    elif result.steps:
        document["status"] = "applied"
    document["result"] = {
        "steps": [
            {"verb": s.verb, "identifier": s.identifier, "model": s.model_key} for s in result.steps
        ],
        "failures": [
            {"identifier": f.identifier, "action": f.action, "message": f.message}
            for f in result.failures
        ],
        "verified": not any(f.action == "verify" for f in result.failures),
        "after": dict(result.verification.summary),
    }
    return document
