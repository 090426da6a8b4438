"""The CLI's layout: global options before or after the command, and only where they apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from lmsprofiles._commands import COMMANDS, HELP
from lmsprofiles._commands._options import GLOBALS

EXAMPLE = Path(__file__).resolve().parent.parent / "profiles"


@pytest.mark.parametrize("before", [True, False])
def test_global_options_work_before_or_after_the_command(
    before: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--profiles", str(EXAMPLE), "--state-dir", str(tmp_path / "state"), "--json"]
    argv = [*options, "plan", "--emulator"] if before else ["plan", "--emulator", *options]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "plan"
    assert document["summary"]["load"] == 3


def test_an_option_after_the_command_wins_over_one_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["--profiles", str(tmp_path / "missing"), "validate", "--profiles", str(EXAMPLE)]) == 0
    )
    assert capsys.readouterr().out.startswith("valid:")


@pytest.mark.parametrize(
    ("argv", "option", "command"),
    [
        (["--state-dir", "x", "validate"], "--state-dir", "validate"),
        (["--json", "render", "coder"], "--json", "render"),
        (["--profiles", "p", "schema", "--check"], "--profiles", "schema"),
        (["--profiles", "p", "emulator"], "--profiles", "emulator"),
        # after the command alike, not argparse's "unrecognized arguments"
        (["validate", "--state-dir", "x"], "--state-dir", "validate"),
        (["render", "coder", "--json"], "--json", "render"),
        (["schema", "--check", "--profiles", "p"], "--profiles", "schema"),
        (["emulator", "--profiles=p"], "--profiles", "emulator"),
        (["completion", "bash", "--timeout", "5"], "--timeout", "completion"),
    ],
)
def test_a_global_option_a_command_does_not_take_is_an_error(
    argv: list[str], option: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert f"error: {option} does not apply to '{command}'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["emulator", "--p", "0", "--count", "99"], "--count"),  # --p is --port, not --profiles
        (["render", "coder", "--for", "toml"], "--format"),
    ],
)
def test_an_abbreviated_option_of_the_command_still_works(
    argv: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Globals the command does not take do not compete with its own options' prefixes."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert f"error: argument {value}: " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["validate", "--strict"], "--strict"), (["validate", "--", "--json"], "-- --json")],
)
def test_an_unknown_option_after_the_command_is_still_unrecognized(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert f"error: unrecognized arguments: {words}\n" in capsys.readouterr().err


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def test_command_help_lists_only_the_options_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    emulator_help = _help("emulator", capsys)
    for option in ("--profiles", "--state-dir", "--json"):
        assert option not in emulator_help
    assert "address to bind" in emulator_help
    schema_help = _help("schema", capsys)
    assert not any(option in schema_help for option, _ in GLOBALS.values())
    plan_help = _help("plan", capsys)
    assert all(option in plan_help for option, _ in GLOBALS.values())


def test_every_command_is_a_module_with_help_configure_and_run() -> None:
    import importlib

    assert list(HELP) == list(COMMANDS)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"lmsprofiles._commands.{module_name}")
        assert isinstance(HELP[name], str) and HELP[name]
        assert callable(module.configure) and callable(module.run)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        ["--help", "validate", "--no-such-option"],
        ["--profiles", "p", "-h", "render"],
        ["--he", "plan"],
        ["--version"],
        ["--version", "validate", "--no-such-option"],
    ],
)
def test_help_or_version_before_any_command_prints_and_exits(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    printed = capsys.readouterr()
    if "--version" in argv:
        # on stdout, as argparse's own version action prints it: `lmsprofiles --version | ...`
        assert printed.out.startswith("lmsprofiles ") and printed.err == ""
    else:
        assert printed.out.startswith("usage: lmsprofiles ")
        assert all(f"\n    {name} " in printed.out for name in COMMANDS)
