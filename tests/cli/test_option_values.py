"""Option values: an empty or malformed value is never ignored, never a fallback, never a
traceback; a global option means the same before and after the command.

The rule (docs/cli.md, "Global options"): the values a variable can give too (``--profiles``,
``--host``, ``--state-dir``, ``--timeout``) are checked the same way whichever gives them,
as problems (exit 3); a command's own options are usage errors (exit 2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from tests.conftest import EXAMPLE_PROFILES

REPO = Path(__file__).resolve().parents[2]


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in this process: its exit code, whether it returned or exited."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


EMPTY = {
    "--profiles": "--profiles: is empty; name a directory, or leave the option out for ./profiles",
    "--host": "--host: is empty; give host:port, e.g. localhost:1234",
    "--state-dir": "--state-dir: is empty; name a directory, or leave the option out for the "
    "user state dir",
    "--timeout": "--timeout: is empty; give a number of seconds > 0",
}
COMMANDS = {
    "validate": (["validate"], ("--profiles",)),
    "render": (["render", "coder"], ("--profiles",)),
    "export": (["export", "coder", "--format", "json"], ("--profiles",)),
    "plan": (["plan", "--emulator"], ("--profiles", "--state-dir", "--timeout")),
    "reconcile": (["reconcile", "--emulator"], ("--profiles", "--state-dir", "--timeout")),
    "adopt": (["adopt", "--emulator"], ("--profiles", "--state-dir", "--timeout")),
    "plan --host": (["plan"], ("--host",)),
    "import --from-host": (["import", "--from-host", "--dry-run"], ("--host",)),
}
CASES = [
    (name, option, before)
    for name, (_, options) in COMMANDS.items()
    for option in options
    for before in (True, False)
]


@pytest.mark.parametrize(("name", "option", "before"), CASES)
def test_an_empty_option_value_is_exit_3_and_never_a_fallback(
    name: str,
    option: str,
    before: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles").symlink_to(EXAMPLE_PROFILES)  # what a fallback would find
    words, _ = COMMANDS[name]
    argv = [option, "", *words] if before else [*words, option, ""]
    code, out, err = run(argv, capsys)
    assert code == 3, out + err
    assert err.splitlines() == [EMPTY[option], "1 problem found"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles"]  # no hosts/, no locks/


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("LMSPROFILES_STATE_DIR", "LMSPROFILES_STATE_DIR: is empty; name a directory, or unset it"),
        ("LMSPROFILES_HOST", "LMSPROFILES_HOST: is empty; give host:port, e.g. localhost:1234"),
        ("LMSPROFILES_TIMEOUT", "LMSPROFILES_TIMEOUT: is empty; give a number of seconds > 0"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "reconcile", "adopt"])
def test_an_empty_variable_is_exit_3_and_never_a_fallback(
    variable: str,
    message: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, "")
    code, out, err = run([command, "--profiles", str(EXAMPLE_PROFILES), "--emulator"], capsys)
    assert code == 3, out + err
    assert err.splitlines()[0].startswith(message), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e10", "86401", "soon", " "])
@pytest.mark.parametrize("before", [True, False])
def test_a_malformed_timeout_option_is_exit_3_like_the_variable(
    value: str, before: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    words = ["plan", "--profiles", str(EXAMPLE_PROFILES), "--emulator"]
    argv = ["--timeout", value, *words] if before else [*words, "--timeout", value]
    code, out, err = run(argv, capsys)
    assert code == 3, out + err
    if value.strip():
        expected = f"--timeout: must be a number of seconds > 0 and at most 86400 (got {value!r})"
        assert err.splitlines() == [expected, "1 problem found"]


@pytest.mark.parametrize("value", ["1e10", "1e300", "inf", "0"])
def test_a_malformed_timeout_variable_is_exit_3(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSPROFILES_TIMEOUT", value)
    code, out, err = run(["plan", "--profiles", str(EXAMPLE_PROFILES), "--emulator"], capsys)
    assert code == 3, out + err
    assert (
        f"LMSPROFILES_TIMEOUT: must be a number of seconds > 0 and at most 86400 (got {value!r})"
        in err
    )


def test_a_day_is_the_longest_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    words = ["plan", "--profiles", str(EXAMPLE_PROFILES), "--emulator", "--timeout", "86400"]
    code, out, err = run(words, capsys)
    assert code == 0, out + err


@pytest.mark.parametrize("command", ["plan", "reconcile", "adopt"])
def test_host_and_emulator_together_are_a_usage_error(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--profiles", str(EXAMPLE_PROFILES), "--emulator", "--host", "127.0.0.1:1"]
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert f"lmsprofiles {command}: error: give --host or --emulator, not both" in err


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "-inf", "86401", "soon", ""])
@pytest.mark.parametrize("command", ["reconcile", "adopt"])
def test_a_malformed_lock_timeout_is_a_usage_error(
    value: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--profiles", str(EXAMPLE_PROFILES), "--emulator", f"--lock-timeout={value}"]
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert (
        f"argument --lock-timeout: expected a number of seconds from 0 to 86400, not {value!r}"
        in err
    )


# -- the emulator's own --host, given before the command -----------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "a:b:c", "emulator"], "'a:b:c' is not an IPv6 address"),
        (["emulator", "--host", "a:b:c"], "'a:b:c' is not an IPv6 address"),
        (["--host", "127.0.0.1:70000", "emulator"], "the port in '127.0.0.1:70000' must be"),
        (["emulator", "--port", "70000"], "argument --port: expected a port from 0 to 65535"),
        (["emulator", "--port", "-1"], "argument --port: expected a port from 0 to 65535"),
        (["emulator", "--port", "65535", "--count", "2"], "ports 65535 to 65536"),
        (["--host", "127.1", "emulator"], "write it as 127.0.0.1"),
    ],
)
def test_emulator_usage_errors_are_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert message in err
    assert "Traceback" not in err


def _emulator(*argv: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    return subprocess.Popen(
        [sys.executable, "-m", "lmsprofiles", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "127.0.0.1", "emulator", "--port", "0"],
        ["--host", "127.0.0.1:0", "emulator"],
        ["emulator", "--host", "127.0.0.1:0"],
    ],
)
def test_the_global_host_before_emulator_is_its_bind_address(argv: list[str]) -> None:
    process = _emulator(*argv)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("before", [True, False])
def test_a_name_that_does_not_resolve_is_one_line_and_exit_1(before: bool) -> None:
    host = ["--host", "not-a-host.invalid"]
    argv = [*host, "emulator", "--port", "0"] if before else ["emulator", *host, "--port", "0"]
    process = _emulator(*argv)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    assert err.startswith("error: cannot resolve not-a-host.invalid: "), err
    assert len(err.splitlines()) == 1, err
