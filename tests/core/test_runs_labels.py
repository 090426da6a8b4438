"""A label in a host's ``runs.labels`` that no model profile has, but one has a label close
to, is a typo: a problem with its position and a did-you-mean, never a host that silently
runs nothing (and whose instances reconcile --prune would then unload). A label nothing is
close to is a selection of models to come: valid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from tests.conftest import EXAMPLE_PROFILES


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            "{sise: small}",
            "hosts.box.runs.labels.sise: no model profile has the label 'sise'; "
            "did you mean 'size'?",
        ),
        (
            "{size: smal}",
            "hosts.box.runs.labels.size: no model profile has the label size: "
            "smal; did you mean 'small'?",
        ),
    ],
)
def test_a_label_no_model_has_is_a_problem_with_a_hint(
    labels: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, profiles)
    for name, size in (("qwen-chat", "small"), ("coder", "large")):
        path = profiles / "models" / f"{name}.yaml"
        path.write_text(path.read_text() + f"labels: {{size: {size}}}\n")
    hosts = profiles / "hosts.yaml"
    hosts.write_text(
        f"hosts:\n  box:\n    address: localhost:1234\n    runs:\n      labels: {labels}\n"
    )
    capsys.readouterr()
    assert main(["validate", "--profiles", str(profiles)]) == 3
    err = capsys.readouterr().err
    assert err == f"{hosts}:5:22: {message}\n1 problem found\n"  # at the value


@pytest.mark.parametrize("labels", ["{size: huge}", "{kv: full}"])
def test_a_label_nothing_is_close_to_selects_models_to_come(
    labels: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, profiles)
    path = profiles / "models" / "coder.yaml"
    path.write_text(path.read_text() + "labels: {size: large}\n")
    hosts = profiles / "hosts.yaml"
    hosts.write_text(
        f"hosts:\n  box:\n    address: localhost:1234\n    runs:\n      labels: {labels}\n"
    )
    assert main(["validate", "--profiles", str(profiles)]) == 0
