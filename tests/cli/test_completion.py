"""`lmsprofiles completion`: scripts generated from the real parser, run by the real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lmsprofiles._cli import build_parser, main
from lmsprofiles._commands import COMMANDS
from tests.core.test_cli_profiles import _IMPORTS

REPO = Path(__file__).resolve().parents[2]


def _script(shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["completion", shell]) == 0
    path = tmp_path / f"completion.{shell}"
    path.write_text(capsys.readouterr().out)
    return path


_BASH = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_lmsprofiles
printf '%s\\n' "${COMPREPLY[@]}"
"""


def _bash(script: Path, *words: str) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", _BASH, "bash", str(script), "lmsprofiles", *words],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "LMSPROFILES_PROFILES": "profiles"},
    )
    return sorted(line for line in done.stdout.splitlines() if line)


def test_bash_completes_commands_options_choices_and_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script("bash", tmp_path, capsys)
    assert _bash(script, "") == sorted([*COMMANDS, *_globals()])
    assert _bash(script, "re") == ["reconcile", "render"]
    assert _bash(script, "render", "") == ["coder", "embed", "qwen-chat"]
    assert _bash(script, "render", "--format", "") == ["json", "yaml"]
    assert _bash(script, "export", "coder", "--format", "m") == ["model-yaml"]
    assert "--hide-defaults" in _bash(script, "render", "--h")
    assert _bash(script, "completion", "") == ["bash", "fish", "zsh"]
    assert _bash(script, "plan", "--context-policy", "r") == ["reload"]
    assert _bash(script, "--profiles", "pro") == ["profiles"]  # a directory
    assert _bash(script, "--profiles", "tests/interop/sources", "render", "") == []


def _globals() -> list[str]:
    parser = build_parser()
    return [
        flag
        for action in parser._actions
        for flag in action.option_strings
        if action.help != "==SUPPRESS=="
    ]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_choices_and_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script("fish", tmp_path, capsys)

    def complete(line: str) -> list[str]:
        done = subprocess.run(
            ["fish", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        return sorted(line.split("\t")[0] for line in done.stdout.splitlines() if line)

    assert complete("lmsprofiles re") == ["reconcile", "render"]
    assert complete("lmsprofiles render ") == ["coder", "embed", "qwen-chat"]
    assert complete("lmsprofiles render --format ") == ["json", "yaml"]
    assert complete("lmsprofiles --profiles tests/interop/sources render ") == []
    assert complete("lmsprofiles import tests/interop/sources/cr") == [
        "tests/interop/sources/creative-writing.preset.json"
    ]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_the_script_and_registers_the_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script("zsh", tmp_path, capsys)
    assert script.read_text().startswith("#compdef lmsprofiles\n")
    done = subprocess.run(
        [
            "zsh",
            "-f",
            "-c",
            f"autoload -U compinit && compinit -u -D; source {script}; "
            "print -r -- $_comps[lmsprofiles]; whence -w _lmsprofiles",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "_bash_complete -o default -F _lmsprofiles",
        "_lmsprofiles: function",
    ]
    assert done.stderr == ""


@pytest.mark.parametrize(
    "argv", [["completion", "bash"], ["render", "--all"], ["import", "--help"]]
)
def test_completion_render_all_and_import_help_stay_light(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert {"lmstudio", "websockets", "httpx", "rich"}.isdisjoint(done.stdout.split())
