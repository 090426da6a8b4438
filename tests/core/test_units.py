"""Durations and token counts as people write them: ``ttl: 2h``, ``contextLength: 8k``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from lmsprofiles._cli import main
from tests.conftest import WriteTree


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("ttl", "seconds"), [("2h", 7200), ("30m", 1800), ("90s", 90), ("1h30m", 5400), ("1d", 86400)]
)
def test_ttl_durations(write_tree: WriteTree, ttl: str, seconds: int) -> None:
    root = write_tree({"models/a.yaml": f"model: m\nttl: {ttl}\n"})
    assert lmsprofiles.load(root, env={}).resolve("a").ttl == seconds


@pytest.mark.parametrize(("written", "tokens"), [("8k", 8192), ("16K", 16384), ("1M", 1048576)])
def test_context_length_in_k(write_tree: WriteTree, written: str, tokens: int) -> None:
    root = write_tree({"models/a.yaml": f"model: m\nload:\n  contextLength: {written}\n"})
    assert lmsprofiles.load(root, env={}).resolve("a").load == {"contextLength": tokens}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "ttl: 2hr\n",
            "profiles/models/a.yaml:2:6: ttl: unknown unit 'hr' in '2hr'; did you mean '2h'? "
            "(units: s, m, h, d)",
        ),
        (
            "load:\n  contextLength: 8kb\n",
            "profiles/models/a.yaml:3:18: load.contextLength: unknown unit 'kb' in '8kb'; did you "
            "mean '8k'? (units: k, K, M)",
        ),
        (
            "ttl: soon\n",
            "profiles/models/a.yaml:2:6: ttl: cannot read 'soon'; write e.g. '2h', '30m', '90s' "
            "or '1h30m'",
        ),
        (
            "ttl: '7200'\n",
            "profiles/models/a.yaml:2:6: ttl: must be an integer >= 1 (got the string '7200')",
        ),
    ],
)
def test_wrong_units_get_a_suggestion(write_tree: WriteTree, line: str, expected: str) -> None:
    root = write_tree({"models/a.yaml": "model: m\n" + line})
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env={})
    assert [str(p) for p in caught.value.problems] == [expected]


def test_environment_call_site_and_set_take_units(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree({"models/a.yaml": "model: m\n"})
    env = {"LMSPROFILES_TTL": "30m", "LMSPROFILES_LOAD__CONTEXT_LENGTH": "4k"}
    profiles = lmsprofiles.load(root, env=env)
    cfg = profiles.resolve("a")
    assert (cfg.ttl, cfg.load) == (1800, {"contextLength": 4096})
    assert profiles.resolve("a", ttl="1h", contextLength="2k").ttl == 3600
    with pytest.raises(ProfileError, match="did you mean '2h'"):
        lmsprofiles.load(root, env={"LMSPROFILES_TTL": "2hours"})
    with pytest.raises(ProfileError, match="did you mean '2h'"):
        profiles.resolve("a", ttl="2hr")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["render", "a", "--format", "json", "--set", "ttl=2h"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["ttl"], doc["load"]) == (7200, {"contextLength": 4096})
