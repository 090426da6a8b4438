"""An LM Studio server emulator that the unmodified ``lmstudio`` SDK works against.

``Emulator`` runs the server (in a background thread, or in your event loop with
``Emulator.serve``); ``load_catalog`` reads the YAML catalog of "downloaded" models and emulator
settings. The ``lmstudio_emulator`` pytest fixture lives in
:mod:`lmsprofiles.emulator.pytest_plugin`. See docs/emulator.md.
"""

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
