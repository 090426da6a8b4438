"""A model profile that cannot be read is a problem, never a deleted profile.

Reconcile with ``--prune`` unloads instances whose profile is gone; a profile file that exists
as a name but cannot be read must stop it (exit 3, nothing contacted) instead of counting as
gone and unloading a running instance.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from tests.reconcile.conftest import Host, Outcome


def _dangling(models: Path) -> Path:
    (models / "coder.yaml").unlink()
    (models / "coder.yaml").symlink_to(models / "coder-moved.yaml")
    return models / "coder.yaml"


def _loop(models: Path) -> Path:
    (models / "coder.yaml").unlink()
    (models / "coder.yaml").symlink_to(models / "coder.yaml")
    return models / "coder.yaml"


def _models_linked_to_itself(models: Path) -> Path:
    shutil.rmtree(models)
    models.symlink_to(models)
    return models


@pytest.mark.parametrize(
    "break_it",
    [_dangling, _loop, _models_linked_to_itself],
    ids=["dangling symlink", "symlink loop", "models linked to itself"],
)
def test_reconcile_prune_stops_on_an_unreadable_profile(
    host: Host, break_it: Callable[[Path], Path]
) -> None:
    assert host.run("reconcile").code == 0
    before = {i: s.instance_reference for i, s in host.loaded().items()}
    assert set(before) == {"coder", "embed", "qwen-chat"}
    broken = break_it(host.profiles / "models")
    for result in (_validate(host), host.run("plan", "--prune"), host.run("reconcile", "--prune")):
        assert result.code == 3, (result.out, result.err)
        assert f"{broken}: cannot read: " in result.err, result.err
        assert "Traceback" not in result.err
    after = {i: s.instance_reference for i, s in host.loaded().items()}
    assert after == before


def _validate(host: Host) -> Outcome:
    host.capsys.readouterr()
    code = main(["validate", "--profiles", str(host.profiles)])
    captured = host.capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
