"""The plan is coloured by action on a terminal, and only there (NO_COLOR, --no-color)."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from lmsprofiles._color import color_plan, use_color

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles"
GREEN, RESET = "\033[32m", "\033[0m"


def _plan_on_a_terminal(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    primary, secondary = pty.openpty()
    argv = [sys.executable, "-m", "lmsprofiles", "plan", "--emulator", "--profiles", str(EXAMPLE)]
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        [*argv, "--state-dir", str(tmp_path), *extra],
        stdout=secondary,
        stderr=subprocess.PIPE,
        env={**environ, "TERM": "xterm", **(env or {})},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return b"".join(chunks).decode()


def test_the_plan_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    out = _plan_on_a_terminal(tmp_path)
    load_lines = [line for line in out.splitlines() if "qwen-chat" in line and "load" in line]
    assert load_lines and load_lines[0].startswith(GREEN)
    assert load_lines[0].endswith(RESET)


@pytest.mark.parametrize(
    ("extra", "env"), [(("--no-color",), None), ((), {"NO_COLOR": "1"}), ((), {"TERM": "dumb"})]
)
def test_no_color_and_no_color_variable_keep_the_terminal_plain(
    tmp_path: Path, extra: tuple[str, ...], env: dict[str, str] | None
) -> None:
    out = _plan_on_a_terminal(tmp_path, *extra, env=env)
    assert "qwen-chat" in out
    assert "\033[" not in out


def test_a_pipe_gets_no_colour_unless_forced(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "lmsprofiles", "plan", "--emulator", "--profiles", str(EXAMPLE)]
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    plain = subprocess.run(
        [*argv, "--state-dir", str(tmp_path)], capture_output=True, text=True, env=environ
    )
    assert "\033[" not in plain.stdout
    forced = subprocess.run(
        [*argv, "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**environ, "FORCE_COLOR": "1"},
    )
    assert GREEN in forced.stdout


def test_each_marker_gets_its_colour_and_other_lines_stay_plain() -> None:
    text = (
        "Plan for LM Studio at h\n\n"
        "  +   a  m  load\n"
        "        + load.contextLength = 8\n"
        "  -/+ b  m  reload  (load.seed changed)\n"
        "        ~ load.seed  1 -> 2  # forces reload\n"
        "  =   c  m  reuse\n"
        "  -   d  m  unload\n"
        "  ?   e  m  leave\n"
        "  !   f  m  conflict\n"
        "  <=  g  m  adopt\n"
        "  x   h  m  invalid\n\n"
        "warning: a: something\n"
        "error: f: cannot load\n\n"
        "Plan: 1 to load."
    )
    colored = color_plan(text).split("\n")
    codes = [line[: line.index("m") + 1] if line.startswith("\033") else "" for line in colored]
    assert codes == [
        "",
        "",
        "\033[32m",
        "\033[32m",
        "\033[33m",
        "\033[33m",
        "\033[2m",
        "\033[31m",
        "\033[36m",
        "\033[1;31m",
        "\033[35m",
        "\033[1;31m",
        "",
        "\033[33m",
        "\033[1;31m",
        "",
        "\033[1m",
    ]
    assert [
        line.replace(code, "").replace(RESET, "") for line, code in zip(colored, codes, strict=True)
    ] == text.split("\n")


def test_use_color_rules() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Terminal(), env={})
    assert not use_color(Terminal(), env={"NO_COLOR": "1"})
    assert use_color(Terminal(), env={"NO_COLOR": ""})  # empty is unset (no-color.org)
    assert not use_color(Terminal(), no_color=True, env={"FORCE_COLOR": "1"})
    assert not use_color(io.StringIO(), env={})
    assert use_color(io.StringIO(), env={"FORCE_COLOR": "1"})
