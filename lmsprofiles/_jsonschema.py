"""``schema.json``: the JSON Schema of every profile file kind (and ``hosts.yaml``), for
editors and CI."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from lmsprofiles import _fields as f
from lmsprofiles._inventory import HOSTS_FILE
from lmsprofiles._keys import fields_of

_FILES: tuple[type[BaseModel], ...] = (
    f.GlobalFile,
    f.ModelFile,
    f.RequestFile,
    f.model(HOSTS_FILE.name),
)


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    todo = list(_FILES)
    while todo:
        model = todo.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        todo.extend(f.model(fld.model) for fld in fields_of(model).values() if fld.model)
    return found


def build() -> dict[str, Any]:
    """The schema document: any of the four file kinds, with snake_case spellings too."""
    _, top = models_json_schema(
        [(model, "validation") for model in _FILES], ref_template="#/$defs/{model}"
    )
    defs: dict[str, Any] = top["$defs"]
    for name, model in _models().items():
        properties = defs.get(name, {}).get("properties", {})
        for alias, fld in fields_of(model).items():
            if fld.name != alias and alias in properties:
                properties[fld.name] = {
                    **properties[alias],
                    "description": f"Same as {alias}.",
                }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lmsprofiles.dev/schema.json",
        "title": "lmsprofiles profile file",
        "description": (
            "A file of an lmsprofiles profile directory: global.yaml, models/<name>.yaml, "
            "requests/<name>.yaml or hosts.yaml. Merge tags !append, !replace and !reset are "
            "allowed on mapping values."
        ),
        "anyOf": [{"$ref": f"#/$defs/{model.__name__}"} for model in _FILES],
        "$defs": dict(sorted(defs.items())),
    }


def text() -> str:
    """The schema as the exact text of ``schema.json``."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
