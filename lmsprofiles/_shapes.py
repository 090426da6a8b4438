"""The shape of every profile model: its fields as plain data, and the cross-field rules.

A :class:`Shape` names a model (``LlmLoad``, ``ModelFile``, ...) and lists its fields, one
:class:`Spec` each: the camelCase key, the value kind (a :class:`lmsprofiles._fieldtable.Kind`),
what it means, whether it is required and its default. The load and inference shapes are built
from the rows of the field table; the shapes of nested values and of the files are declared
here (``hosts.yaml``'s in :mod:`lmsprofiles._inventory`). Everything that needs the schema
reads it from here: the pydantic models, which are the validator of record
(:mod:`lmsprofiles._fields`), key spelling (:mod:`lmsprofiles._keys`), environment
variables (:mod:`lmsprofiles._overrides`) and the quick check that accepts what is certainly
valid without loading pydantic (:mod:`lmsprofiles._quick`).

A new kind of file is one more :func:`shape` with a :class:`Spec` per field, and one more
:func:`lmsprofiles._fields.make_model` of it. This module imports only the standard library.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from lmsprofiles import _fieldtable as t

__all__ = [
    "RULES",
    "RULE_FIELDS",
    "SHAPES",
    "TTL",
    "Rule",
    "Shape",
    "Spec",
    "fields",
    "label_text",
    "shape",
]


class Spec(NamedTuple):
    """One field of a model: its camelCase key, what it takes and what it means.

    ``required`` fields have no default and cannot be ``null`` (it would unset them); the
    others default to ``default`` and take ``null``.
    """

    key: str
    kind: t.Kind
    description: str = ""
    required: bool = False
    default: Any = None


class Shape(NamedTuple):
    """A model: its name (the title of its validation errors), docstring and fields."""

    name: str
    doc: str
    specs: tuple[Spec, ...]


SHAPES: dict[str, Shape] = {}
"""Every shape declared so far, by name, each after the shapes it nests."""


def shape(name: str, doc: str, *specs: Spec, base: Shape | None = None) -> Shape:
    """Declare the shape ``name``: the fields of ``base`` (if any), then ``specs``; a spec
    whose key ``base`` has replaces that field where it stands."""
    found = {spec.key: spec for spec in base.specs} if base is not None else {}
    found |= {spec.key: spec for spec in specs}
    made = Shape(name, doc, tuple(found.values()))
    SHAPES[name] = made
    return made


@functools.cache
def fields(name: str) -> Mapping[str, Spec]:
    """The fields of the shape ``name`` by key."""
    return {spec.key: spec for spec in SHAPES[name].specs}


def _from_rows(name: str, doc: str, rows: Sequence[t.Row], group: Spec | None = None) -> Shape:
    """A shape of the fields of ``rows``; the rows inside ``group`` (``gpu.ratio`` inside
    ``gpu``) are represented by the group's field, where the first of them is."""
    specs: list[Spec] = []
    for row in rows:
        if group is None or row.group != group.key:
            assert row.value is not None, row.name
            specs.append(Spec(row.key, row.value, row.description))
        elif group not in specs:
            specs.append(group)
    return shape(name, doc, *specs)


_GPU = Spec("gpu", t.Nested("Gpu"), "GPU offload and split.")

TTL = Spec(
    "ttl",
    t.Num("integer", ge=1, unit="seconds"),
    "Seconds an idle instance stays loaded, or a duration like 2h, 30m, 90s; "
    "null: no expiry (the default).",
)

GPU = _from_rows(
    "Gpu",
    "How the model is spread over GPUs (``load.gpu``).",
    [row for row in t.rows("load", accepted=True) if row.group == "gpu"],
)
EMBEDDING_LOAD = _from_rows(
    "EmbeddingLoad",
    "Load config of an embedding model (SDK ``EmbeddingLoadModelConfig``).",
    t.rows("load", "embedding", accepted=True),
    _GPU,
)
LLM_LOAD = _from_rows(
    "LlmLoad",
    "Load config of an LLM (SDK ``LlmLoadModelConfig``); changing it needs a reload.",
    t.rows("load", "llm", accepted=True),
    _GPU,
)

# Nested values of inference fields

STRUCTURED = shape(
    "Structured",
    "Constrained output: a JSON schema or a GBNF grammar.",
    Spec(
        "type",
        t.Choice(("none", "json", "gbnf")),
        "none, json (needs jsonSchema) or gbnf (needs gbnfGrammar).",
        required=True,
    ),
    Spec("jsonSchema", t.JsonObject(), "JSON schema the output must satisfy."),
    Spec("gbnfGrammar", t.Text(), "GBNF grammar the output must satisfy."),
)
TOOL_FUNCTION = shape(
    "ToolFunction",
    "A function tool offered to the model.",
    Spec("name", t.Text(non_empty=True), "Function name.", required=True),
    Spec("description", t.Text(), "What the function does."),
    Spec(
        "parameters",
        t.JsonObject(no_underscores=True),
        "JSON schema of the arguments (type: object).",
    ),
)
TOOL = shape(
    "Tool",
    "One raw tool definition.",
    Spec("type", t.Choice(("function",)), "Always 'function'.", required=True),
    Spec("function", t.Nested("ToolFunction"), required=True),
)
RAW_TOOLS = shape(
    "RawTools",
    "Raw tool definitions (deprecated in LM Studio in favour of the SDK's act()).",
    Spec("type", t.Choice(("none", "toolArray")), "none, or toolArray with tools.", required=True),
    Spec("tools", t.Nested("Tool", "list")),
    Spec("force", t.Bool(), "Force a tool call."),
)
MANUAL_PROMPT_TEMPLATE = shape(
    "ManualPromptTemplate",
    "The six strings of a manual prompt template.",
    *(
        Spec(f"{when}{part}", t.Text(), required=True)
        for part in ("System", "User", "Assistant")
        for when in ("before", "after")
    ),
)
JINJA_PROMPT_TEMPLATE = shape(
    "JinjaPromptTemplate",
    "A Jinja prompt template.",
    Spec("template", t.Text(), "The Jinja template text.", required=True),
)
PROMPT_TEMPLATE = shape(
    "PromptTemplate",
    "Prediction-time prompt template override.",
    Spec(
        "type",
        t.Choice(("manual", "jinja")),
        "manual (needs manualPromptTemplate) or jinja (needs jinjaPromptTemplate).",
        required=True,
    ),
    Spec("stopStrings", t.Strings(), "Stop strings that belong to the template.", required=True),
    Spec("manualPromptTemplate", t.Nested("ManualPromptTemplate")),
    Spec("jinjaPromptTemplate", t.Nested("JinjaPromptTemplate")),
)
REASONING_PARSING = shape(
    "ReasoningParsing",
    "How reasoning sections are found in the output.",
    Spec("enabled", t.Bool(), "Parse reasoning sections.", required=True),
    Spec(
        "startString",
        t.Text(),
        "Marker that opens a reasoning section, e.g. <think>.",
        required=True,
    ),
    Spec(
        "endString",
        t.Text(),
        "Marker that closes a reasoning section, e.g. </think>.",
        required=True,
    ),
)
INFERENCE = _from_rows(
    "Inference",
    "Inference config (SDK ``LlmPredictionConfig``); applied per request, never reloads.",
    t.rows("inference", accepted=True),
)

# The files

GLOBAL_FILE = shape(
    "GlobalFile",
    "``global.yaml`` (and the user-level global file): defaults for every model.",
    Spec(
        "load",
        t.Nested("LlmLoad"),
        "Load defaults; embedding models take only the fields they support.",
    ),
    Spec("inference", t.Nested("Inference"), "Inference defaults for LLMs."),
    TTL,
)
REQUEST_OVERRIDE = shape(
    "RequestOverride",
    "A model's own override of a named request overlay (``requests.<name>``).",
    Spec("inference", t.Nested("Inference"), "Inference fields for this request."),
)
REQUEST_FILE = shape(
    "RequestFile",
    "``requests/<name>.yaml``: a named per-request inference overlay.",
    Spec("description", t.Text(), "What the request kind is for."),
    base=REQUEST_OVERRIDE,
)
MODEL_FILE = shape(
    "ModelFile",
    "``models/<name>.yaml``: one model instance.",
    Spec(
        "model",
        t.Name(),
        "LM Studio model key, e.g. qwen/qwen3-8b.",
        required=True,
    ),
    Spec(
        "identifier",
        t.Name(),
        "Instance identifier; defaults to the file name.",
    ),
    Spec("type", t.Choice(("llm", "embedding")), "llm (default) or embedding.", default="llm"),
    TTL,
    Spec(
        "deploy",
        t.Bool(),
        "Keep this model loaded on reconcile (default true).",
        default=True,
    ),
    Spec("load", t.Nested("LlmLoad"), "Load config; changing it needs a reload."),
    Spec("inference", t.Nested("Inference"), "Inference config; applied per request."),
    Spec(
        "requests",
        t.Nested("RequestOverride", "dict"),
        "This model's overrides of named request overlays.",
    ),
    Spec(
        "labels",
        t.Labels(),
        "Labels hosts select models by (runs.labels in hosts.yaml), e.g. {size: small}; "
        "values compare as text.",
    ),
)
EMBEDDING_SCOPE = shape(
    "EmbeddingScope",
    "What environment variables may set for an embedding model.",
    Spec("load", t.Nested("EmbeddingLoad")),
    TTL,
)
EMBEDDING_MODEL_FILE = shape(
    "EmbeddingModelFile",
    "A model file with ``type: embedding``: embedding load fields only, no inference.",
    Spec(
        "load",
        t.Nested("EmbeddingLoad"),
        "Embedding load config; changing it needs a reload.",
    ),
    base=MODEL_FILE,
)


def label_text(value: Any) -> str:
    """A label value as it is compared: ``true``/``false`` for booleans, else its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------------------------
# Cross-field rules: (section, check) where check(values) yields (path within section, message)

Rule = Callable[[Mapping[str, Any]], list[tuple[tuple[str, ...], str]]]


def _load_rules(load: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    v_cache = load.get("llamaVCacheQuantizationType")
    if v_cache not in (None, False) and load.get("flashAttention") is not True:
        found.append(
            (("llamaVCacheQuantizationType",), "a quantized V cache needs flashAttention: true")
        )
    gpu = load.get("gpu") or {}
    if "mainGpu" in gpu and gpu.get("splitStrategy") != "favorMainGpu":
        found.append(
            (
                ("gpu", "mainGpu"),
                "mainGpu needs splitStrategy: favorMainGpu (lmstudio SDK 1.5 drops it otherwise)",
            )
        )
    return found


def _inference_rules(inference: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    structured = inference.get("structured") or {}
    kind = structured.get("type")
    if kind == "json" and "jsonSchema" not in structured:
        found.append((("structured", "type"), "type json needs jsonSchema"))
    if kind == "gbnf" and "gbnfGrammar" not in structured:
        found.append((("structured", "type"), "type gbnf needs gbnfGrammar"))
    for other, needs in (("jsonSchema", "json"), ("gbnfGrammar", "gbnf")):
        if other in structured and kind != needs:
            found.append((("structured", other), f"{other} needs type: {needs}"))
    tools = inference.get("rawTools") or {}
    if tools.get("type") == "none" and tools.get("tools"):
        found.append((("rawTools", "tools"), "tools need type: toolArray"))
    template = inference.get("promptTemplate") or {}
    kind = template.get("type")
    for needed, when in (("manualPromptTemplate", "manual"), ("jinjaPromptTemplate", "jinja")):
        if kind == when and needed not in template:
            found.append((("promptTemplate", "type"), f"type {when} needs {needed}"))
    return found


RULES: Mapping[str, Rule] = {"load": _load_rules, "inference": _inference_rules}
"""The cross-field rules of the merged load and inference sections, by section."""
RULE_FIELDS: Mapping[str, frozenset[str]] = {
    "load": frozenset({"llamaVCacheQuantizationType", "flashAttention", "gpu"}),
    "inference": frozenset({"structured", "rawTools", "promptTemplate"}),
}
"""The fields each section's rules read: a section whose other fields change keeps their
answer."""
