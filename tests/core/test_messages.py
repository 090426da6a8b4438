"""Messages for bad input at the edges of the profile core: names, --set, JSON in
variables, files that look like profiles, the loader's arguments, origins and ordering.

Everything runs the real CLI entry point or the public API on real files in a tmp dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from lmsprofiles._cli import main
from tests.conftest import WriteTree

QWEN = "model: qwen/qwen3-8b\nload:\n  contextLength: 4096\ninference:\n  temperature: 0.5\n"


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def cli(
    capsys: pytest.CaptureFixture[str], *argv: str, code: int = 3
) -> list[str]:
    """Run the CLI; check the exit code; return the problem lines (the count line dropped),
    or what it printed on stdout when it succeeded."""
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 0:
        return captured.out.splitlines()
    lines = captured.err.splitlines()
    if code == 3:
        assert lines[-1] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''} found"
        return lines[:-1]
    return lines


def validate(capsys: pytest.CaptureFixture[str], root: Path, *more: str) -> list[str]:
    return cli(capsys, "--profiles", str(root), "validate", *more)


# ------------------------------------------------------------------------------------------
# Names: identifiers and model keys


@pytest.mark.parametrize("cache", [(), ("--no-cache",)])
def test_blank_and_invisible_names_are_problems_at_their_values(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], cache: tuple[str, ...]
) -> None:
    root = write_tree(
        {
            "models/blank.yaml": 'model: "  "\n',
            "models/empty.yaml": 'model: ""\n',
            "models/newline.yaml": 'model: m/x\nidentifier: "a\\nb"\n',
            "models/space.yaml": 'model: m/x\nidentifier: "a b"\n',
            "models/tab.yaml": 'model: "m/x\\t"\n',
            "models/control.yaml": 'model: m/x\nidentifier: "c\\x01d"\n',
            "models/zero.yaml": 'model: "m\\u200b/x"\n',
            "models/fine.yaml": "model: lmstudio-community/Qwen3-8B-GGUF@q4_k_m\nidentifier: q:2\n",
        }
    )
    assert validate(capsys, root, *cache) == [
        "profiles/models/blank.yaml:1:8: model: must not be blank (got '  ')",
        r"profiles/models/control.yaml:2:13: identifier: must not contain '\x01' "
        r"(a control character; got 'c\x01d')",
        "profiles/models/empty.yaml:1:8: model: must not be empty (got the string '')",
        r"profiles/models/newline.yaml:2:13: identifier: must not contain '\n' "
        r"(a line break; got 'a\nb')",
        "profiles/models/space.yaml:2:13: identifier: must not contain ' ' "
        "(a space; got 'a b')",
        r"profiles/models/tab.yaml:1:8: model: must not contain '\t' (a tab; got 'm/x\t')",
        r"profiles/models/zero.yaml:1:8: model: must not contain '\u200b' "
        r"(an invisible character; got 'm\u200b/x')",
    ]
    if not cache:  # the second run answers from the cache: the same problems
        assert validate(capsys, root)[0].startswith("profiles/models/blank.yaml:1:8:")


def test_a_file_name_that_is_no_identifier_is_a_problem(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"models/my model.yaml": "model: m/x\n", "models/ok.yaml": "model: m/x\n"})
    assert validate(capsys, root) == [
        "profiles/models/my model.yaml: the file name 'my model' is the model's identifier "
        "and must not contain ' ' (a space); rename the file or set identifier:"
    ]
    root = write_tree({"models/my model.yaml": "model: m/x\nidentifier: my-model\n"})
    assert cli(capsys, "--profiles", str(root), "validate", code=0)[0].startswith("valid:")


def test_invisible_characters_in_keys_are_shown_escaped(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"models/a.yaml": 'model: m/x\ninference:\n  "temp\\u200berature": 0.5\n'})
    assert validate(capsys, root) == [
        r"profiles/models/a.yaml:3:3: inference.temp\u200berature: unknown key "
        r"'temp\u200berature'; did you mean 'temperature'?"
    ]
