"""``lmsprofiles schema --output`` to a place it cannot write or read: one line, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmsprofiles import _jsonschema
from lmsprofiles._cli import main
from tests.processes import run_cli


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_output_in_a_missing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nowhere" / "schema.json"
    code, out, err = _run(["schema", "--output", str(target)], capsys)
    assert (code, out) == (1, "")
    assert err == f"error: cannot write {target}: No such file or directory\n"
    assert not target.parent.exists()


def test_an_output_that_is_a_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["schema", "--output", str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert err == f"error: cannot write {tmp_path}: Is a directory\n"


def test_checking_a_directory_says_it_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["schema", "--check", "--output", str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert err == f"error: cannot read {tmp_path}: Is a directory\n"


def test_a_file_that_is_no_text_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "schema.json"
    target.write_bytes(b"\xff\xfe")
    code, _, err = _run(["schema", "--check", "--output", str(target)], capsys)
    assert code == 1
    assert err == (f"{target} is stale; run `lmsprofiles schema --output {target}` to update it\n")


@pytest.mark.parametrize("state", ["stale", "missing"])
def test_the_advice_for_another_output_updates_that_file(
    state: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Following the advice of `--check --output FILE` makes that check pass, rather than
    writing ./schema.json and leaving FILE as it was."""
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "my dir" / "editor.schema.json"
    target.parent.mkdir()
    if state == "stale":
        target.write_text("{}\n")
    code, _, err = _run(["schema", "--check", "--output", str(target)], capsys)
    assert code == 1
    advice = err.split("`")[1]
    assert advice == f"lmsprofiles schema --output '{target}'"
    import shlex

    assert _run(shlex.split(advice)[1:], capsys)[0] == 0
    assert _run(["schema", "--check", "--output", str(target)], capsys)[:2] == (
        0,
        f"{target} is up to date\n",
    )
    assert not (tmp_path / "schema.json").exists()


def test_the_advice_for_the_default_output_is_the_plain_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["schema", "--check"], capsys)
    assert (code, err) == (1, "schema.json is missing; run `lmsprofiles schema` to update it\n")


def test_a_read_only_output_is_one_line_and_keeps_the_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "schema.json"
    target.write_text("{}\n")
    target.chmod(0o444)
    locked.chmod(0o555)
    try:
        done = run_cli("schema", "--output", str(target), unprivileged=True)
    finally:
        locked.chmod(0o755)
    assert done.code == 1, done
    assert done.err == f"error: cannot write {target}: Permission denied\n", done
    assert target.read_text() == "{}\n"


def test_a_written_schema_is_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schema.json"
    target.write_text("old\n")
    code, out, _ = _run(["schema", "--output", str(target)], capsys)
    assert (code, out) == (0, f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == _jsonschema.text()
