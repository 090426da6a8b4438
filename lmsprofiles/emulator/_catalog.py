"""The emulator's catalog: the "downloaded" models and the emulator settings.

A catalog is a YAML file read as profile files are (:mod:`lmsprofiles._yaml`: the same limits,
duplicate keys and syntax errors with their positions) and validated with pydantic
(``extra="forbid"``). Every problem is reported as ``FILE:LINE:COL: dotted.path: message`` through
:class:`CatalogError`, a :class:`~lmsprofiles._errors.ProfileError` (CLI exit code 3).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from lmsprofiles._errors import Problem, ProfileError

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogModel",
    "ContextPolicy",
    "EmulatorSettings",
    "ModelFaults",
    "default_catalog",
    "load_catalog",
    "parse_catalog",
]

ContextPolicy = Literal["clamp", "reject", "accept"]
"""What a load asking for more than ``maxContextLength`` gets.

``clamp``: the load succeeds and the instance's actual ``contextLength`` is ``maxContextLength``
(``getLoadConfig`` still reports what was sent). ``reject``: the load fails. ``accept``: the
instance runs with the requested context length.
"""

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def _parse_size(value: object) -> object:
    """Accept a byte count as an int or a string with a unit (``48GiB``, ``512 MB``)."""
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"not a size: {value!r} (use bytes or e.g. '48GiB', '512MB')")
        return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_size), Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ModelFaults(_Strict):
    """Faults injected into the loads of one model (or, set at run time, of every model).

    All fields are optional and combine: a slow load can also be dropped part-way.
    """

    load_error: str | None = Field(default=None, alias="loadError", min_length=1)
    """Every load fails with this message (a ``channelError``, as LM Studio sends)."""
    load_seconds: float | None = Field(default=None, alias="loadSeconds", ge=0, le=3600)
    """A load takes this long, streaming a progress packet every ``progressInterval``."""
    drop_connection_at: float | None = Field(default=None, alias="dropConnectionAt", gt=0, le=1)
    """Close the websocket once load progress reaches this fraction; the load is abandoned."""

    def merged(self, override: ModelFaults | None) -> ModelFaults:
        """These faults with every field that ``override`` sets replacing ours."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_unset=True))


class CatalogModel(_Strict):
    """One "downloaded" model. The wire fields are reported as LM Studio reports them."""

    model_key: str = Field(alias="modelKey", min_length=1)
    type: Literal["llm", "embedding"]
    format: Literal["gguf", "safetensors", "onnx", "ggml", "mlx_placeholder", "torch_safetensors"]
    display_name: str = Field(alias="displayName", min_length=1)
    path: str = Field(min_length=1)
    size_bytes: ByteSize = Field(alias="sizeBytes")
    publisher: str | None = Field(default=None, min_length=1)
    """Who published the model; default: the first part of ``path``."""
    indexed_model_identifier: str | None = Field(
        default=None, alias="indexedModelIdentifier", min_length=1
    )
    """LM Studio's path-based identifier of the model file; default: ``path``."""
    params_string: str | None = Field(default=None, alias="paramsString")
    architecture: str | None = None
    max_context_length: int = Field(alias="maxContextLength", ge=1)
    vision: bool = False
    trained_for_tool_use: bool = Field(default=False, alias="trainedForToolUse")
    kv_bytes_per_token: ByteSize = Field(default=0, alias="kvBytesPerToken")
    """Memory an instance needs per token of context, on top of ``sizeBytes``."""
    embedding_length: int = Field(default=768, alias="embeddingLength", ge=1, le=65536)
    """Length of the vectors ``embed`` returns (embedding models only)."""
    faults: ModelFaults = ModelFaults()

    @model_validator(mode="after")
    def _llm_only_fields(self) -> CatalogModel:
        if self.type == "embedding" and (self.vision or self.trained_for_tool_use):
            raise ValueError("vision and trainedForToolUse apply to llm models only")
        return self

    def wire_info(self) -> dict[str, Any]:
        """The model as ``listDownloadedModels`` reports it (``ModelInfo``).

        ``publisher``, ``indexedModelIdentifier`` and ``deviceIdentifier`` (``null``: on this
        machine) are required by ``@lmstudio/sdk`` 2.0; older clients ignore them.
        """
        info: dict[str, Any] = {
            "type": self.type,
            "modelKey": self.model_key,
            "format": self.format,
            "displayName": self.display_name,
            "publisher": self.publisher or self.path.split("/", 1)[0],
            "path": self.path,
            "sizeBytes": self.size_bytes,
            "indexedModelIdentifier": self.indexed_model_identifier or self.path,
            "deviceIdentifier": None,
        }
        if self.params_string is not None:
            info["paramsString"] = self.params_string
        if self.architecture is not None:
            info["architecture"] = self.architecture
        if self.type == "llm":
            info["vision"] = self.vision
            info["trainedForToolUse"] = self.trained_for_tool_use
        info["maxContextLength"] = self.max_context_length
        return info

    def memory_bytes(self, context_length: int) -> int:
        """Memory one instance with this context length takes from the budget."""
        return self.size_bytes + context_length * self.kv_bytes_per_token


class EmulatorSettings(_Strict):
    """Emulator-wide settings (the catalog's ``settings`` block)."""

    memory_budget: ByteSize = Field(default=48 * 1024**3, alias="memoryBudget")
    """Loads that would push the summed instance memory above this fail ("insufficient memory")."""
    context_policy: ContextPolicy = Field(default="clamp", alias="contextPolicy")
    default_context_length: int = Field(default=2048, alias="defaultContextLength", ge=1)
    """Context length of a load that does not set one (capped at the model's maximum)."""
    load_seconds: float = Field(default=0.0, alias="loadSeconds", ge=0, le=3600)
    """How long every load takes unless the model's faults say otherwise."""
    progress_interval: float = Field(default=0.05, alias="progressInterval", gt=0, le=10)
    """Seconds between load progress packets (well below the SDK's 60 s sync timeout)."""
    ttl_check_interval: float = Field(default=0.05, alias="ttlCheckInterval", gt=0, le=60)
    """How often idle instances are checked against their ttl."""
    unresponsive: bool = False
    """Authenticate connections, then never answer anything (the SDK times out)."""
    token_seconds: float = Field(default=0.0, alias="tokenSeconds", ge=0, le=10)
    """Pause between streamed fragments of a prediction (lets tests cancel mid-stream)."""
    tokens_per_second: float = Field(default=1000.0, alias="tokensPerSecond", gt=0)
    """The generation speed reported in prediction stats (predictions are not slowed down)."""


class Catalog(_Strict):
    """A whole catalog: ``settings`` and the list of ``models``."""

    settings: EmulatorSettings = EmulatorSettings()
    models: tuple[CatalogModel, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        seen: set[str] = set()
        for model in self.models:
            for name in {model.model_key, model.path}:
                if name in seen:
                    raise ValueError(f"model key or path {name!r} appears twice")
                seen.add(name)
        return self

    def find(self, key_or_path: str) -> CatalogModel | None:
        """The model whose key or path is exactly ``key_or_path``."""
        for model in self.models:
            if key_or_path in (model.model_key, model.path):
                return model
        return None


class CatalogError(ProfileError):
    """A catalog file cannot be read or is invalid (CLI exit code 3)."""


_LIMIT_VARIABLES = ("LMSPROFILES_MAX_FILE_BYTES", "LMSPROFILES_MAX_DEPTH", "LMSPROFILES_MAX_NODES")


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Read and validate a catalog file; ``None`` gives the catalog shipped with the package.

    The file is read as profile files are, within the same limits
    (``LMSPROFILES_MAX_FILE_BYTES``, ``_MAX_DEPTH``, ``_MAX_NODES``). Raises
    :class:`CatalogError` listing every problem with its file, line and column.
    """
    from lmsprofiles import _yaml
    from lmsprofiles._env import control

    if path is None:
        return default_catalog()
    source = os.fspath(path)
    try:
        limits = control({n: os.environ[n] for n in _LIMIT_VARIABLES if n in os.environ}).limits
        doc = _yaml.read(Path(source), source, limits)
    except ProfileError as exc:
        raise CatalogError(_catalog_read(p) for p in exc.problems) from None
    return _validate(doc)


def _catalog_read(problem: Problem) -> Problem:
    """``cannot read: why`` says which file it could not read: the catalog."""
    message = problem.message
    if message.startswith("cannot read: "):
        message = "cannot read the catalog: " + message.removeprefix("cannot read: ")
    return Problem(problem.source, problem.line, problem.column, problem.path, message)


def default_catalog() -> Catalog:
    """The catalog shipped inside the package (``default_catalog.yaml``)."""
    text = resources.files(__package__).joinpath("default_catalog.yaml").read_text("utf-8")
    return parse_catalog(text, "<default catalog>")


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Parse catalog YAML text; ``source`` names it in error messages."""
    from lmsprofiles import _yaml

    try:
        doc = _yaml.parse(text, source)
    except ProfileError as exc:
        raise CatalogError(exc.problems) from None
    return _validate(doc)


def _validate(doc: Document) -> Catalog:
    problems = _merge_tags(doc, doc.data, ())
    if not problems:
        try:
            return Catalog.model_validate(doc.data)
        except ValidationError as exc:
            whole: list[Problem] = []  # about the whole catalog: a model twice
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                line, column = doc.position(loc, key=True)
                problem = Problem(doc.source, line, column, _dotted(loc), _wording(error))
                (problems if loc else whole).append(problem)
            twice = _duplicates(doc)
            problems += twice or whole
    raise CatalogError(problems)


def _dotted(loc: Sequence[int | str]) -> str:
    from lmsprofiles._yaml import dotted

    return dotted(tuple(loc))


def _merge_tags(doc: Document, value: Any, path: tuple[int | str, ...]) -> list[Problem]:
    """A profile merge tag (``!append``, ``!replace``, ``!reset``) in a catalog is a problem."""
    from lmsprofiles._merge import Append, Replace, Reset

    if isinstance(value, Append | Replace | Reset):
        tag = {Append: "!append", Replace: "!replace", Reset: "!reset"}[type(value)]
        line, column = doc.position(path)
        message = f"{tag} is a profile merge tag; a catalog has none"
        return [Problem(doc.source, line, column, _dotted(path), message)]
    if isinstance(value, Mapping):
        items: Iterable[tuple[int | str, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    return [p for key, item in items for p in _merge_tags(doc, item, (*path, key))]


def _wording(error: Mapping[str, Any]) -> str:
    """pydantic's message about a catalog value, in the words of profile problems."""
    from lmsprofiles._yaml import describe

    kind, loc, value = error["type"], error["loc"], error["input"]
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), _model_at(loc[:-1]))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (got {describe(value)})"
    message = str(error["msg"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        return f"must be {message.removeprefix('Input should be ')} (got {describe(value)})"
    return message


def _model_at(loc: Sequence[int | str]) -> type[BaseModel]:
    """The catalog model whose keys the mapping at ``loc`` holds."""
    import typing

    model: type[BaseModel] = Catalog
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            break
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        model = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), model)
    return model


def _unknown_key(key: str, model: type[BaseModel]) -> str:
    import difflib

    valid = [field.alias or name for name, field in model.model_fields.items()]
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not close:
        lowered = {name.lower(): name for name in valid}
        close = [lowered[c] for c in difflib.get_close_matches(key.lower(), list(lowered), n=1)]
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    return f"unknown key '{key}'; valid keys: {', '.join(valid)}"


def _duplicates(doc: Document) -> list[Problem]:
    """A model key or path that another model has as its key or path, reported at the
    second model."""
    models = doc.data.get("models")
    if not isinstance(models, list):
        return []
    problems: list[Problem] = []
    seen: dict[str, tuple[int, str]] = {}
    for index, model in enumerate(models):
        if not isinstance(model, Mapping):
            continue
        for key in ("modelKey", "path"):
            name = model.get(key)
            if not isinstance(name, str):
                continue
            first, first_key = seen.setdefault(name, (index, key))
            if first != index:
                line, column = doc.position(("models", index, key), key=True)
                message = f"{name!r} is also the {first_key} of models[{first}]"
                where = _dotted(("models", index, key))
                problems.append(Problem(doc.source, line, column, where, message))
    return problems
