"""From resolved profiles to :class:`DesiredInstance` values (a thin mapping, no logic)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lmsprofiles._reconcile._model import DesiredInstance

if TYPE_CHECKING:
    from lmsprofiles._profiles import ProfileSet

__all__ = ["KEPT", "control_settings", "desired_instance", "desired_instances", "not_deployed"]


def control_settings() -> Any:
    """The control settings (host, profiles dir, state dir) from ``LMSPROFILES_*``."""
    from lmsprofiles._env import control

    return control()


def desired_instances(
    profiles: Path | ProfileSet, host: str | None = None
) -> list[DesiredInstance]:
    """The instances the profiles (a directory, or a loaded set) deploy; with ``host``, on
    that host of the inventory, with its layers.

    Raises ``ProfileError`` (exit 3) for invalid profiles or environment, before anything
    else happens. The origin of ``model`` is where its profile writes it (FILE:LINE:COL),
    that of ``type`` the model profile's file.
    """
    from lmsprofiles._profiles import ProfileSet, load

    if not isinstance(profiles, ProfileSet):
        profiles = load(profiles)
    found = []
    for deployment in profiles.deployments(host):
        want = desired_instance(deployment)
        profile = profiles.models[want.identifier]
        origins = {"model": profile.model_at or profile.source, "type": profile.source}
        origins |= want.origins
        found.append(dataclasses.replace(want, origins=origins))
    return found


KEPT: Final = "its profile has deploy: false"
"""Why an instance of a model profile that is not deployed stays loaded, even with --prune."""


def not_deployed(profiles: ProfileSet, host: str | None = None) -> dict[str, str]:
    """The identifiers of the model profiles that are not desired here, each with why: the
    profile has ``deploy: false`` (:data:`KEPT`: the application uses it; reconcile never
    unloads it), or the inventory host ``host`` does not run it."""
    runs = None if host is None else set(profiles.host(host).models)
    found = {}
    for identifier, model in profiles.models.items():
        if not model.deploy:
            found[identifier] = KEPT
        elif runs is not None and identifier not in runs:
            found[identifier] = f"host {host!r} does not run it"
    return found


def desired_instance(deployment: Any) -> DesiredInstance:
    """One resolved deployment (``identifier``, ``model``, ``type``, ``ttl``, ``load``,
    ``origins``) as a :class:`DesiredInstance`."""
    origins: Mapping[str, Any] = getattr(deployment, "origins", {}) or {}
    return DesiredInstance(
        identifier=deployment.identifier,
        model_key=deployment.model,
        kind=deployment.type,
        load=copy.deepcopy(dict(deployment.load)),
        ttl=deployment.ttl,
        origins={str(path): str(origin) for path, origin in origins.items()},
    )
