"""LM Studio KV config keys <-> profile fields, and conversions both ways.

LM Studio keeps settings (config presets, the ``config`` block of a model.yaml, per-model
defaults, the load config of an instance) as lists of ``{key, value}`` fields keyed by its KV
config keys (``llm.load.contextLength``). "Checkbox" keys carry ``{checked, value}``: unchecked
means the setting is off. :data:`KV_KEYS` is the field table (:mod:`lmsprofiles._fieldtable`)
seen by KV key: every key lmstudio SDK 1.5 maps (they are exactly the fields a profile can
carry) and the keys LM Studio has that it does not map, so that an import can say why such a
key was not taken over.

The value conversion itself is lmstudio SDK 1.5's own (``lmstudio._kv_config``), with the two
things it gets wrong for this purpose fixed here: it reads an unchecked checkbox as "absent"
and writes ``false`` as a checked value, and it writes the GPU split whenever ``gpu`` is given.
The SDK is imported only by the conversion functions.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from lmsprofiles import _fieldtable as t
from lmsprofiles._fieldtable import Domain, Section

__all__ = [
    "KV_KEYS",
    "Converted",
    "Domain",
    "KvKey",
    "Skipped",
    "check_values",
    "field_key",
    "field_list",
    "from_kv",
    "kv_key",
    "load_fields",
    "prediction_fields",
    "unknown_setting",
]


@dataclass(frozen=True)
class KvKey:
    """One LM Studio KV config key and the profile field(s) it carries.

    ``fields`` are dotted paths inside the profile's ``section`` (``gpu.ratio``); empty when no
    profile field carries the key. ``sdk`` is false for keys lmstudio SDK 1.5 cannot send
    (``name`` is then LM Studio's own field name for it, if it has one). ``domains`` are the
    model types the key applies to. ``unchecked`` is the value LM Studio keeps beside
    ``checked: false`` on a checkbox key; ``off`` is the value that means "off" for checkbox
    fields whose ``false`` profiles cannot carry.
    """

    key: str
    section: Section
    fields: tuple[str, ...] = ()
    checkbox: bool = False
    sdk: bool = True
    name: str = ""
    unchecked: Any = None
    off: float | None = None
    domains: tuple[Domain, ...] = ("llm", "embedding")

    @property
    def reason(self) -> str:
        """Why an import does not take the key over (empty when it does)."""
        if self.sdk:
            return ""
        if self.name:
            return (
                f"{self.name!r} is not supported by lmstudio SDK 1.5, so profiles cannot carry it"
            )
        return "no lmstudio SDK has a field for it, so profiles cannot carry it"


def _kv_keys() -> tuple[KvKey, ...]:
    """The field table by KV key: a key that carries several fields (the GPU split) or
    applies to both model types is one entry."""
    found: dict[str, KvKey] = {}
    for row in t.ROWS:
        off = getattr(row.value, "off", None)
        for domain, keys in row.keys.items():
            for key in keys:
                entry = found.get(key)
                if entry is None:
                    found[key] = KvKey(
                        key,
                        row.section,
                        (row.name,) if row.accepted else (),
                        row.checkbox,
                        row.accepted,
                        "" if row.accepted else row.name,
                        row.unchecked,
                        off.value if off is not None and off.mode == "reject" else None,
                        (domain,),
                    )
                    continue
                new_field = row.accepted and row.name not in entry.fields
                fields = entry.fields + ((row.name,) if new_field else ())
                domains = entry.domains + ((domain,) if domain not in entry.domains else ())
                found[key] = replace(entry, fields=fields, domains=domains)
    for other in t.KV_ONLY:
        found[other.key] = KvKey(other.key, other.section, (), other.checkbox, False)
    return tuple(found.values())


KV_KEYS: Final[tuple[KvKey, ...]] = _kv_keys()
"""Every KV key lmsprofiles knows: what lmstudio SDK 1.5 maps, then what it cannot send."""

_BY_KEY: Final[Mapping[str, KvKey]] = {k.key: k for k in KV_KEYS}


_SPLIT: Final = _BY_KEY["load.gpuSplitConfig"].fields


def kv_key(key: str) -> KvKey | None:
    """The table entry of a KV key, or ``None`` for a key lmsprofiles does not know."""
    return _BY_KEY.get(key)


def field_key(section: Section, name: str, domain: Domain) -> KvKey | None:
    """The KV key that carries the profile field ``section.name`` for a ``domain`` model."""
    for entry in KV_KEYS:
        if entry.section == section and name in entry.fields and domain in entry.domains:
            return entry
    return None


# --------------------------------------------------------------------------------------------
# KV fields -> profile sections


@dataclass(frozen=True)
class Skipped:
    """A source setting an import did not take over, and why. ``where`` locates it."""

    key: str
    value: Any
    reason: str
    where: str = ""


@dataclass
class Converted:
    """Profile ``load`` and ``inference`` values from KV fields, with what was left out.

    ``notes`` maps a profile path (``inference.repeatPenalty``) to a remark for the file.
    ``problems`` are ``(where, message)`` for values that are invalid in the source.
    """

    load: dict[str, Any] = field(default_factory=dict)
    inference: dict[str, Any] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)


_SPLIT_DEFAULT: Final[Mapping[str, Any]] = {
    "strategy": "evenly",
    "disabledGpus": [],
    "priority": [],
    "customRatio": [],
}


def from_kv(
    fields: Iterable[tuple[str, Any, str]], domain: Domain, *, section: Section | None = None
) -> Converted:
    """Convert ``(key, value, where)`` KV fields to profile values for a ``domain`` model.

    ``section`` restricts the keys to load or prediction keys (a preset's ``load`` list takes
    no prediction keys). Keys profiles cannot carry and keys of the other model type are
    listed in ``skipped``; unknown keys and invalid values are ``problems``.
    """
    out = Converted()
    for key, value, where in fields:
        entry = _BY_KEY.get(key)
        if entry is None:
            out.problems.append((where, unknown_setting(key)))
        elif section is not None and entry.section != section:
            wanted = "load" if section == "load" else "prediction"
            out.problems.append((where, f"{key} is not a {wanted} setting"))
        elif not entry.sdk:
            out.skipped.append(Skipped(key, value, entry.reason, where))
        elif domain not in entry.domains:
            what = "an embedding" if domain == "embedding" else "an LLM"
            out.skipped.append(Skipped(key, value, f"does not apply to {what} model", where))
        else:
            _convert_one(entry, value, where, domain, out)
    check_values(out, domain)
    return out


def _convert_one(entry: KvKey, value: Any, where: str, domain: Domain, out: Converted) -> None:
    target = out.load if entry.section == "load" else out.inference
    if entry.checkbox:
        if not isinstance(value, Mapping) or not isinstance(value.get("checked"), bool):
            out.problems.append((where, f"{entry.key}: expected {{checked: true|false, value}}"))
            return
        if not value["checked"]:
            name = entry.fields[0]
            target[name] = False if entry.off is None else entry.off
            out.notes[f"{entry.section}.{name}"] = (
                "off in LM Studio (unchecked)"
                if entry.off is None
                else f"off in LM Studio (unchecked); {entry.off:g} means the same"
            )
            out.where[f"{entry.section}.{name}"] = where
            return
    if entry.key == "load.gpuSplitConfig":
        _split(value, where, out)
        return
    try:
        client = _sdk_parse(entry.key, value)
    except ValueError as exc:
        out.problems.append((where, f"{entry.key}: {exc}"))
        return
    _merge_into(target, client)
    for name in entry.fields:
        out.where[f"{entry.section}.{name}"] = where


def _split(value: Any, where: str, out: Converted) -> None:
    if not isinstance(value, Mapping):
        out.problems.append((where, "load.gpuSplitConfig: expected a mapping"))
        return
    full = {**copy.deepcopy(dict(_SPLIT_DEFAULT)), **copy.deepcopy(dict(value))}
    try:
        client = _sdk_parse("load.gpuSplitConfig", full)
        back = _sdk_split(client.get("gpu", {}))
    except ValueError as exc:
        out.problems.append((where, f"load.gpuSplitConfig: {exc}"))
        return
    if back != full:
        reason = (
            f"split strategy {full.get('strategy')!r} with priority {full.get('priority')} and "
            f"custom ratios {full.get('customRatio')} cannot be expressed by gpu.splitStrategy, "
            "gpu.mainGpu and gpu.disabledGpus"
        )
        out.skipped.append(Skipped("load.gpuSplitConfig", dict(value), reason, where))
        return
    _merge_into(out.load, client)
    for name in _SPLIT:
        out.where[f"load.{name}"] = where


def _merge_into(target: dict[str, Any], client: Mapping[str, Any]) -> None:
    for key, value in client.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            target[key].update(value)
        else:
            target[key] = copy.deepcopy(value) if isinstance(value, Mapping) else value


def check_values(out: Converted, domain: Domain) -> None:
    """Validate each converted field on its own, so a problem names its source field."""
    from pydantic import ValidationError

    from lmsprofiles import _fields as f

    load_model = f.EmbeddingLoad if domain == "embedding" else f.LlmLoad
    for section, model, values in (
        ("load", load_model, out.load),
        ("inference", f.Inference, out.inference),
    ):
        for name in list(values):
            try:
                model.model_validate({name: values[name]})
            except ValidationError as exc:
                for error in f.errors(exc):
                    path = ".".join(str(p) for p in (section, *error["loc"]))
                    where = out.where.get(path) or out.where.get(f"{section}.{name}", "")
                    out.problems.append((where, f"{path}: {error['msg']}"))
                del values[name]
    gpu = out.load.get("gpu")
    if isinstance(gpu, dict):
        order = ("ratio", "splitStrategy", "mainGpu", "disabledGpus")
        out.load["gpu"] = dict(sorted(gpu.items(), key=lambda kv: order.index(kv[0])))


def _sdk_parse(key: str, value: Any) -> dict[str, Any]:
    """lmstudio SDK 1.5's reading of one checked or plain KV field (camelCase fields)."""
    import msgspec
    from lmstudio import LMStudioError
    from lmstudio import _kv_config as kv

    if isinstance(value, Mapping) and kv.FROM_SERVER_CONFIG[key].__class__ is kv.CheckboxField:
        value = {"checked": True, "value": value.get("value")}
    try:
        return dict(kv.parse_server_config({"fields": [{"key": key, "value": value}]}))
    except (msgspec.ValidationError, LMStudioError, TypeError, AttributeError) as exc:
        raise ValueError(f"invalid value ({exc})") from None


def _sdk_split(gpu: Mapping[str, Any]) -> dict[str, Any]:
    import lmstudio
    from lmstudio import _kv_config as kv

    stack = kv.load_config_to_kv_config_stack({"gpu": dict(gpu)}, lmstudio.LlmLoadModelConfig)
    for item in stack.to_dict()["layers"][0]["config"]["fields"]:
        if item["key"] == "load.gpuSplitConfig":
            return dict(item["value"] or {})
    return dict(_SPLIT_DEFAULT)  # pragma: no cover - the SDK always writes the split


# --------------------------------------------------------------------------------------------
# profile sections -> KV fields


def load_fields(load: Mapping[str, Any], domain: Domain) -> list[dict[str, Any]]:
    """A resolved ``load`` section (``false`` included) as KV fields, via the SDK's mapping.

    ``false`` on a checkbox field becomes ``{checked: false}``; the GPU split is written only
    when the section sets a split field, so that a ratio alone leaves LM Studio's split as it is.
    """
    import lmstudio
    from lmstudio import _kv_config as kv

    values, unchecked = _unchecked("load", load, domain)
    if domain == "llm":
        stack = kv.load_config_to_kv_config_stack(values, lmstudio.LlmLoadModelConfig)
    else:
        stack = kv.load_config_to_kv_config_stack(values, lmstudio.EmbeddingLoadModelConfig)
    fields = _stack_fields(stack.to_dict(), values, "load", domain)
    gpu = load.get("gpu")
    if not (isinstance(gpu, Mapping) and any(gpu.get(k.split(".")[1]) is not None for k in _SPLIT)):
        fields = [f for f in fields if f["key"] != "load.gpuSplitConfig"]
    return fields + unchecked


def prediction_fields(inference: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A resolved ``inference`` section (``false`` included) as KV fields, via the SDK's mapping."""
    from lmstudio import _kv_config as kv

    values, unchecked = _unchecked("inference", inference, "llm")
    _, stack = kv.prediction_config_to_kv_config_stack(None, values)  # type: ignore[arg-type]
    return _stack_fields(stack.to_dict(), values, "inference", "llm") + unchecked


def _unchecked(
    section: Section, values: Mapping[str, Any], domain: Domain
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kept: dict[str, Any] = {}
    unchecked: list[dict[str, Any]] = []
    for name, value in values.items():
        if value is None:
            continue
        entry = field_key(section, name, domain)
        if value is False and entry is not None and entry.checkbox:
            unchecked.append(
                {"key": entry.key, "value": {"checked": False, "value": entry.unchecked}}
            )
        elif isinstance(value, Mapping):
            kept[name] = {k: v for k, v in value.items() if v is not None}
        else:
            kept[name] = value
    return kept, unchecked


def _stack_fields(
    stack: Mapping[str, Any], values: Mapping[str, Any], section: Section, domain: Domain
) -> list[dict[str, Any]]:
    """The fields of the SDK's KV stack, with whole numbers it made floats made ints again."""
    fields: list[dict[str, Any]] = []
    for layer in stack["layers"]:
        for item in layer["config"]["fields"]:
            value = item["value"]
            entry = _BY_KEY.get(item["key"])
            given = values.get(entry.fields[0]) if entry and len(entry.fields) == 1 else None
            if isinstance(given, int) and not isinstance(given, bool):
                if isinstance(value, float) and value == given:
                    value = given
                elif isinstance(value, Mapping) and value.get("value") == given:
                    value = {**value, "value": given}
            fields.append({"key": item["key"], "value": value})
    return fields


# --------------------------------------------------------------------------------------------
# {key, value} field lists in source documents


def field_list(
    node: Any, where: str
) -> tuple[list[tuple[str, Any, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """The ``{key, value}`` entries of ``node``, the list at the dotted path ``where``
    (``operation.fields``) of a source; ``None`` (no list) has none.

    Returns ``(key, value, where)`` triples, ``where`` being the dotted path of the entry
    (``operation.fields[2]``); ``(where, message)`` problems for malformed entries and a
    setting given twice; and ``(where, message)`` problems about keys of an entry that are
    neither ``key`` nor ``value`` (to be located at the key).
    """
    from lmsprofiles._interop._source import unknown_key

    if node is None:
        return [], [], []
    if not isinstance(node, list):
        return [], [(where, "expected a list of {key, value} entries")], []
    found: list[tuple[str, Any, str]] = []
    problems: list[tuple[str, str]] = []
    keys: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for index, item in enumerate(node):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            problems.append((at, "expected {key: <LM Studio setting>, value: ...}"))
            continue
        keys += [(f"{at}.{k}", unknown_key(str(k), _ENTRY)) for k in item if k not in _ENTRY]
        key = item["key"]
        if "value" not in item:
            problems.append((at, f"{key} has no value"))
        elif key in first:
            problems.append((at, f"{key} is given twice (first at {first[key]}); keep one"))
        else:
            first[key] = at
            found.append((key, item["value"], at))
    return found, problems, keys


_ENTRY: Final = ("key", "value")


def unknown_setting(key: str) -> str:
    """The message for a KV key lmsprofiles does not know, with the closest one it knows."""
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.8)
    if close:
        return f"unknown LM Studio setting {key!r}; did you mean {close[0]!r}?"
    return (
        f"unknown LM Studio setting {key!r}: not one lmsprofiles knows (misspelt, or a newer "
        "LM Studio's); remove it to import the rest"
    )
