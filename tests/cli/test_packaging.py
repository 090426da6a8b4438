"""What a new user meets first: the pre-commit hooks, the install instructions, the docs site."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lmsprofiles._cli import main

REPO = Path(__file__).resolve().parents[2]


def _hooks() -> list[dict[str, object]]:
    hooks: list[dict[str, object]] = YAML(typ="safe").load(REPO / ".pre-commit-hooks.yaml")
    return hooks


def test_the_pre_commit_hooks_install_lmsprofiles_and_run_its_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    hooks = {hook["id"]: hook for hook in _hooks()}
    assert set(hooks) == {"lmsprofiles-validate", "lmsprofiles-schema"}
    monkeypatch.chdir(REPO)
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this repository for it
        assert hook["pass_filenames"] is False
        command, *argv = str(hook["entry"]).split()
        assert command in scripts
        assert main(argv) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("path", "hook", "runs"),
    [
        ("profiles/models/coder.yaml", "lmsprofiles-validate", True),
        ("deploy/profiles/global.yml", "lmsprofiles-validate", True),
        ("schema.json", "lmsprofiles-validate", True),
        ("README.md", "lmsprofiles-validate", False),
        ("schema.json", "lmsprofiles-schema", True),
        ("profiles/global.yaml", "lmsprofiles-schema", False),
    ],
)
def test_the_hooks_run_for_the_files_they_check(path: str, hook: str, runs: bool) -> None:
    pattern = next(str(h["files"]) for h in _hooks() if h["id"] == hook)
    assert bool(re.search(pattern, path)) is runs


def test_install_instructions_do_not_name_a_package_index_distribution() -> None:
    for page in (REPO / "README.md", REPO / "docs" / "getting-started.md"):
        text = page.read_text()
        assert "pip install lmsprofiles" not in text, page
        assert "pipx install" in text, page


def test_the_docs_site_lists_every_page_and_builds_strictly() -> None:
    config = (REPO / "mkdocs.yml").read_text()
    assert "strict: true" in config
    nav = set(re.findall(r":\s*(\S+\.md)\s*$", config, re.MULTILINE))
    assert nav == {p.name for p in (REPO / "docs").glob("*.md")}
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("mkdocs-material") for d in extras["optional-dependencies"]["docs"])
    assert "mkdocs build --strict" in (REPO / ".ci" / "run").read_text()
