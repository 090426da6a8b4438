"""Each command's ``--help`` ends with the exit codes it returns, as docs/cli.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from lmsprofiles._commands import COMMANDS

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
CODES = {0, 1, 2, 3, 4, 5, 130}


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def _epilog_codes(text: str) -> set[int]:
    """The codes of the ``exit codes:`` block that ends ``text``."""
    block = text[text.rindex("\nexit codes:\n") :].splitlines()[2:]
    assert block[-1] == "  also 2 for a usage error, 130 when interrupted (Ctrl-C)", block
    return {int(line.split()[0]) for line in block[:-1] if not line.startswith("       ")}


def _section(command: str) -> str:
    doc = CLI_DOC.read_text(encoding="utf-8")
    start = doc.index(f"\n## {command}\n")
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


def _documented_codes(command: str) -> set[int]:
    """The codes the command's ``Exit codes:`` paragraph in docs/cli.md names."""
    paragraph = _section(command).split("\nExit codes:", 1)[1].split("\n\n", 1)[0]
    return {int(n) for n in re.findall(r"(?<![\w`.-])(\d+)(?![\w`%-])", paragraph)} & CODES


def _table() -> dict[int, str]:
    """docs/cli.md's exit-code table: code -> its "Raised by" cell."""
    doc = CLI_DOC.read_text(encoding="utf-8")
    table = doc[doc.index("## Exit codes") :].split("\n\n")[1]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    return {int(row[0].strip("| ")): row[-1].strip("| ") for row in rows}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_help_of_each_command_ends_with_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help([command], capsys)
    assert text.endswith("130 when interrupted (Ctrl-C)\n")
    codes = _epilog_codes(text)
    assert 0 in codes
    assert codes == _documented_codes(command), _section(command)
    raised_by = _table()
    for code in (1, 3, 4, 5):  # 0 and 130: every command; 2: also every usage error
        names = {cell.strip("`").split()[0] for cell in raised_by[code].split(", ")}
        assert (code in codes) == (command in names), (code, raised_by[code])


def test_the_top_level_help_lists_every_code_of_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help([], capsys)
    block = text[text.rindex("\nexit codes:\n") :].splitlines()[2:-1]
    assert {int(line.split()[0]) for line in block} == set(_table()) == CODES
