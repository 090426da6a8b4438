"""A value that cannot be read (an unsupported tag, an integer past 64 bits, a bad merge key)
does not hide the other problems of its file: `validate` reports them all in one run, each
at its own position, and the unreadable value once. Limits, syntax errors and a file that is
not a mapping still stop their file at that problem.

Everything runs the real CLI entry point on real files in a tmp dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmsprofiles._cli import main


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> list[str]:
    """The problem lines `validate` prints for ``files`` (exit 3, the count line checked),
    after checking that `validate --json` gives the same problems."""
    root = tmp_path / "profiles"
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "--profiles", str(root), "--no-cache"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[-1] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''} found"
    assert main(["validate", "--profiles", str(root), "--no-cache", "--json"]) == 3
    found = json.loads(capsys.readouterr().out)
    assert found["valid"] is False
    assert [
        f"{p['source']}:{p['line']}:{p['column']}: {p['path'] + ': ' if p['path'] else ''}"
        f"{p['message']}"
        for p in found["problems"]
    ] == lines[:-1]
    return lines[:-1]


A = "profiles/models/a.yaml"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            "  structured: {type: json, jsonSchema: !!set {a, b}}\n",
            f"{A}:5:40: inference.structured.jsonSchema: !!set is not supported: write a list, "
            "e.g. [a, b]",
        ),
        (
            "  structured: {type: json, jsonSchema: !!binary aGVsbG8=}\n",
            f"{A}:5:40: inference.structured.jsonSchema: !!binary is not supported: profiles "
            "hold text",
        ),
        (
            "  draftModel: !!timestamp 2024-01-01\n",
            f"{A}:5:15: inference.draftModel: !!timestamp is not supported: write the date as "
            "a string",
        ),
        (
            "  maxTokens: !foo 3\n",
            f"{A}:5:14: inference.maxTokens: unknown tag !foo; use !append, !replace, !reset",
        ),
        ("  maxTokens: !!int x\n", f"{A}:5:14: inference.maxTokens: cannot read 'x' as !!int"),
        (
            "  maxTokens: 99999999999999999999999\n",
            f"{A}:5:14: inference.maxTokens: integer out of range (beyond 64 bits)",
        ),
        (
            "  stopStrings: !append x\n",
            f"{A}:5:16: inference.stopStrings: !append needs a list, e.g. !append [x]",
        ),
        (
            "  stopStrings: [a, !!binary eA==]\n",
            f"{A}:5:20: inference.stopStrings[1]: !!binary is not supported: profiles hold text",
        ),
        (
            "  <<: 3\n",
            f"{A}:5:7: inference: << (merge key) needs a mapping or a list of mappings",
        ),
        ("  maxTokens: 1\n  maxTokens: 2\n", f"{A}:6:3: duplicate key 'maxTokens'"),
        ("  1: x\n", f"{A}:5:3: inference: key 1 is not a string"),
        ("  maxTokens: *nope\n", f"{A}:5:14: inference.maxTokens: found undefined alias 'nope'"),
    ],
    ids=[
        "set",
        "binary",
        "timestamp",
        "unknown-tag",
        "bad-int",
        "past-64-bits",
        "append-scalar",
        "list-item",
        "merge-key",
        "duplicate-key",
        "int-key",
        "undefined-alias",
    ],
)
def test_a_value_that_cannot_be_read_does_not_hide_the_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str, expected: str
) -> None:
    text = (
        "model: m/x\nload:\n  contextLenght: 4096\ninference:\n"
        + bad
        + "  temperature: .nan\nttl: soon\n"
    )
    after = text.count("\n", 0, text.index("  temperature")) + 1
    assert validate(tmp_path, capsys, {"models/a.yaml": text}) == sorted(
        [
            f"{A}:3:3: load.contextLenght: unknown key 'contextLenght'; did you mean "
            "'contextLength'?",
            expected,
            f"{A}:{after}:16: inference.temperature: must be a number >= 0, not NaN or "
            "infinity (got .nan)",
            f"{A}:{after + 1}:6: ttl: cannot read 'soon'; write e.g. '2h', '30m', '90s' or '1h30m'",
        ],
        key=lambda line: tuple(int(n) for n in line.split(":")[1:3]),
    )


def test_the_cases_of_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`!!set` and an integer past 64 bits, each with another problem in the same file."""
    found = validate(
        tmp_path,
        capsys,
        {
            "models/a.yaml": "model: m/x\nload:\n  contextLength: 99999999999999999999999\n"
            "ttl: soon\n",
            "models/b.yaml": "model: m/x\nlabels: !!set {a}\ninference:\n  bogus: 1\n",
        },
    )
    assert found == [
        f"{A}:3:18: load.contextLength: integer out of range (beyond 64 bits)",
        f"{A}:4:6: ttl: cannot read 'soon'; write e.g. '2h', '30m', '90s' or '1h30m'",
        "profiles/models/b.yaml:2:9: labels: !!set is not supported: write a list, e.g. [a, b]",
        "profiles/models/b.yaml:4:3: inference.bogus: unknown key 'bogus'; valid keys: "
        + found[-1].partition("valid keys: ")[2],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "model: !!binary bS94\n",
            f"{A}:1:8: model: !!binary is not supported: profiles hold text",
        ),
        ("model: m/x\nload:\n  contextLength: !!set {a}\n", f"{A}:3:18: load.contextLength: "),
        ("model: m/x\nload: !foo {contextLength: x}\n", f"{A}:2:7: load: unknown tag !foo"),
        ("model: m/x\nlabels: {a: !!binary eA==}\n", f"{A}:2:13: labels.a: !!binary"),
        ("model: m/x\nidentifier: !!binary eA==\n", f"{A}:2:13: identifier: !!binary"),
        ("model: m/x\n99999999999999999999999: 1\n", f"{A}:2:1: integer out of range"),
        ("model: m/x\n? !!set {a}\n: 1\n", f"{A}:2:3: !!set is not supported"),
        ("model: m/x\nload: {<<: !!binary eA==}\n", f"{A}:2:12: load: !!binary"),
        ("model: m/x\nttl: &x !!binary eA==\nload: {contextLength: *x}\n", f"{A}:2:6: ttl: !!bin"),
    ],
    ids=[
        "required",
        "collection-on-scalar-field",
        "section",
        "label",
        "identifier",
        "key",
        "collection-key",
        "merge-key-value",
        "alias",
    ],
)
def test_an_unreadable_value_gets_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    """Nothing more is said of the value: no missing key, no wrong type, no unknown key
    under it, nothing at its aliases."""
    found = validate(tmp_path, capsys, {"models/a.yaml": text})
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model: m/x\nload:\n  x: !!set {a}\n  y: [1\n", f"{A}:5:1: invalid YAML"),
        ("- !!set {a}\n", f"{A}:1:1: expected a mapping of keys, got a list"),
        (
            "model: m/x\nload: !!set {a}\nttl: [[[1]]]\n",
            f"{A}:3:8: ttl[0][0]: nesting deeper than 3 levels",
        ),
    ],
    ids=["syntax-error", "not-a-mapping", "depth-limit"],
)
def test_what_still_stops_a_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    expected: str,
) -> None:
    """A syntax error, a document that is not a mapping and a limit leave no document to
    check: the file's one problem is that one."""
    monkeypatch.setenv("LMSPROFILES_MAX_DEPTH", "3")
    found = validate(tmp_path, capsys, {"models/a.yaml": text})
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_every_file_kind_reports_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hosts.yaml and request files too; a host whose `runs.models` cannot be read is not
    also said to select no model."""
    found = validate(
        tmp_path,
        capsys,
        {
            "models/a.yaml": "model: m/x\n",
            "hosts.yaml": "hosts:\n  gpu:\n    address: !!binary eA==\n"
            "    runs: {models: !!set {a}}\n    load: {contextLength: 99999999999999999999999}\n"
            "    inference: {temperature: -1}\n",
            "requests/r.yaml": "inference:\n  stopStrings: [!!binary eA==]\n  temperature: -1\n"
            "description: !!binary eA==\n",
        },
    )
    binary = "!!binary is not supported: profiles hold text"
    assert found == [
        f"profiles/hosts.yaml:3:14: hosts.gpu.address: {binary}",
        "profiles/hosts.yaml:4:20: hosts.gpu.runs.models: !!set is not supported: write a list, "
        "e.g. [a, b]",
        "profiles/hosts.yaml:5:27: hosts.gpu.load.contextLength: integer out of range "
        "(beyond 64 bits)",
        "profiles/hosts.yaml:6:30: hosts.gpu.inference.temperature: must be a number >= 0 (got -1)",
        f"profiles/requests/r.yaml:2:17: inference.stopStrings[0]: {binary}",
        "profiles/requests/r.yaml:3:16: inference.temperature: must be a number >= 0 (got -1)",
        f"profiles/requests/r.yaml:4:14: description: {binary}",
    ]
