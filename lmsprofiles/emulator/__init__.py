"""An LM Studio server emulator that the unmodified ``lmstudio`` SDK works against.

``Emulator`` runs the server (in a background thread, or in your event loop with
``Emulator.serve``); ``load_catalog`` reads the YAML catalog of "downloaded" models and emulator
settings. The ``lmstudio_emulator`` pytest fixture lives in
:mod:`lmsprofiles.emulator.pytest_plugin`. See docs/emulator.md.

Names are imported on first use, so the CLI, which imports ``lmsprofiles._commands.emulator`` to
build its parser, does not pay for pydantic, ruamel.yaml or asyncio on ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogModel",
    "ContextPolicy",
    "Emulator",
    "EmulatorError",
    "EmulatorSettings",
    "InstanceSnapshot",
    "ModelFaults",
    "default_catalog",
    "load_catalog",
    "parse_catalog",
]

_EMULATOR_NAMES = ("Emulator", "EmulatorError", "InstanceSnapshot")

if TYPE_CHECKING:
    from lmsprofiles.emulator._catalog import (
        Catalog,
        CatalogError,
        CatalogModel,
        ContextPolicy,
        EmulatorSettings,
        ModelFaults,
        default_catalog,
        load_catalog,
        parse_catalog,
    )
    from lmsprofiles.emulator._emulator import Emulator, EmulatorError, InstanceSnapshot


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'lmsprofiles.emulator' has no attribute {name!r}")
    home = "_emulator" if name in _EMULATOR_NAMES else "_catalog"
    value = getattr(importlib.import_module(f"lmsprofiles.emulator.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
