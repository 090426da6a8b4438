"""`lmsprofiles import` with bad input: every mistake is one clear line and an exit code,
nothing is written outside --to, and nothing in a source is ignored without saying so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lmsprofiles._cli import main
from tests.processes import run_cli

SOURCES = Path(__file__).resolve().parent / "sources"
PRESET = SOURCES / "creative-writing.preset.json"


def _import(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["import", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def _refused(tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Import ``text`` as the file ``name``: exit 3 and nothing written; its stderr."""
    source = tmp_path / name
    source.write_text(text)
    code, _, err = _import([str(source), "--to", str(tmp_path / "p")], capsys)
    assert code == 3, err
    assert not (tmp_path / "p").exists()
    return err


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _preset(tmp_path: Path, document: Any, name: str = "p.preset.json") -> Path:
    source = tmp_path / name
    source.write_text(json.dumps(document, indent=2))
    return source


# ------------------------------------------------------------------------------------------
# --name is a file name, and nothing is written outside --to


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../.github/workflows/ci", "contains a path separator"),
        ("../../evil", "contains a path separator"),
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        (".hidden", "starts with '.'"),
        ("..", "starts with '.'"),
        ("", "is empty"),
        ("tab\there", "contains '\\t' (a tab)"),
        ("my writer", "contains ' ' (a space)"),
        ("bell\x07", "contains '\\x07' (a control character)"),
        ("zero\u200bwidth", "contains '\\u200b' (an invisible character)"),
        ("x" * 300, "is longer than a file name can be"),
    ],
)
def test_a_name_that_is_no_plain_file_name_is_refused_and_nothing_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    why: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / ".github" / "workflows" / "ci.yaml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\n")
    before = _files(tmp_path)
    code, out, err = _import([str(PRESET), "--name", name, "--to", "out/p", "--force"], capsys)
    assert code == 3, err
    assert err.startswith(f"--name: {name!r} is not a plain file name: {why}")
    assert out == ""
    assert _files(tmp_path) == before
    assert workflow.read_text() == "on: push\n"


def test_a_plain_name_is_the_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _import([str(PRESET), "--name", "my-writer.v2", "--to", str(tmp_path)], capsys)
    assert code == 0, err
    assert out == f"wrote {tmp_path / 'requests' / 'my-writer.v2.yaml'}\n"


def test_names_taken_from_a_source_stay_inside_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "lms load a/b --identifier ../../../evil"
    code, _, err = _import([line, "--to", str(tmp_path / "p")], capsys)
    assert code == 0, err
    assert _files(tmp_path) == {"p/models/evil.yaml"}


# ------------------------------------------------------------------------------------------
# Sources are read with the limits of profile files


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("deep.preset.json", '{"operation": ' + "[" * 100_000 + "]" * 100_000 + "}", ":1:"),
        ("deep.txt", '{"load": {"fields": ' + "[" * 5_000 + "]" * 5_000 + "}}", ":1:"),
        ("model.yaml", "model: a/b\nconfig: " + "[" * 100_000 + "]" * 100_000 + "\n", ":2:"),
    ],
)
def test_a_deeply_nested_source_is_a_problem_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, where: str
) -> None:
    """A preset, JSON without the preset suffix, a model.yaml: each within the depth limit."""
    first = _refused(tmp_path, name, text, capsys).splitlines()[0]
    assert first.startswith(f"{tmp_path / name}{where}")
    assert first.endswith("nesting deeper than 64 levels (LMSPROFILES_MAX_DEPTH)")


def test_a_json_preset_with_a_duplicate_key_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "twice.preset.json"
    source.write_text('{"operation": {"fields": []},\n "operation": {"fields": [1]}}\n')
    code, _, err = _import([str(source), "--to", str(tmp_path / "p")], capsys)
    assert code == 3
    assert f"{source}:2:2: duplicate key 'operation'" in err


@pytest.mark.parametrize("how", ["file", "stdin", "command line"])
def test_a_source_larger_than_the_file_size_limit_is_refused_and_the_limit_can_be_raised(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    line = "lms load a/b --identifier m{} --gpu max\n"
    text = "".join(line.format(i) for i in range(50))
    if how == "command line":
        text = "lms load a/b --identifier long " + "-y " * 400
    argv = ["-"] if how == "stdin" else [text] if how == "command line" else []
    if how == "file":
        (tmp_path / "start.sh").write_text(text)
        argv = [str(tmp_path / "start.sh")]
    if how == "stdin":
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(text))
    monkeypatch.setenv("LMSPROFILES_MAX_FILE_BYTES", "1000")
    code, _, err = _import([*argv, "--to", str(tmp_path / "p")], capsys)
    assert code == 3
    assert "larger than 1000 bytes (LMSPROFILES_MAX_FILE_BYTES)" in err
    assert not (tmp_path / "p").exists()
    monkeypatch.setenv("LMSPROFILES_MAX_FILE_BYTES", "100000")
    if how == "stdin":
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(text))
    code, _, err = _import([*argv, "--to", str(tmp_path / "p")], capsys)
    assert code == 0, err


# ------------------------------------------------------------------------------------------
# --to: not a directory, not writable


@pytest.mark.parametrize("to", ["afile", "afile/below"])
def test_a_to_that_is_no_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to: str
) -> None:
    (tmp_path / "afile").write_text("keep me\n")
    code, _, err = _import([str(PRESET), "--to", str(tmp_path / to)], capsys)
    assert code == 3
    assert err.splitlines()[0] == f"--to: {tmp_path / 'afile'} is not a directory"
    assert (tmp_path / "afile").read_text() == "keep me\n"


def test_a_read_only_to_is_one_line_naming_the_file(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    (profiles / "requests").mkdir(parents=True)
    (profiles / "requests" / "other.yaml").write_text("inference:\n  temperature: 1\n")
    for directory in (profiles / "requests", profiles):
        directory.chmod(0o555)
    try:
        done = run_cli("import", str(PRESET), "--to", "profiles", cwd=tmp_path, unprivileged=True)
    finally:
        for directory in (profiles, profiles / "requests"):
            directory.chmod(0o755)
    assert done.code == 1, done
    target = Path("profiles") / "requests" / "creative-writing.yaml"
    assert f"error: cannot write {target}: Permission denied" in done.err.splitlines(), done
    assert "lmsprofiles-import-" not in done.err
    assert "Traceback" not in done.err
    assert sorted(p.name for p in (profiles / "requests").iterdir()) == ["other.yaml"]


def test_a_to_inside_a_read_only_directory_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        done = run_cli("import", str(PRESET), "--to", "locked/p", cwd=tmp_path, unprivileged=True)
    finally:
        locked.chmod(0o755)
    assert done.code == 1, done
    assert "error: cannot write locked/p/requests/creative-writing.yaml: Permission denied" in (
        done.err.splitlines()
    ), done
    assert list(locked.iterdir()) == []


def test_replacing_a_file_keeps_a_link_in_the_directory_from_writing_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("keep me\n")
    requests = tmp_path / "p" / "requests"
    requests.mkdir(parents=True)
    (requests / "creative-writing.yaml").symlink_to(outside)
    code, out, err = _import([str(PRESET), "--to", str(tmp_path / "p"), "--force"], capsys)
    assert code == 0, err
    assert out == f"replaced {requests / 'creative-writing.yaml'}\n"
    assert outside.read_text() == "keep me\n"
    assert not (requests / "creative-writing.yaml").is_symlink()


# ------------------------------------------------------------------------------------------
# Nothing in a source is ignored silently


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "model: a/b\nconfig: [1]\n",
            ":2:9: config: expected a mapping with 'load' and 'operation'",
        ),
        ("model: a/b\nconfig:\n  load: 5\n", ":3:9: config.load: expected a mapping with 'fields'"),
        (
            "model: a/b\nconfig:\n  load:\n    fields: {}\n",
            ":4:13: config.load.fields: expected a list of {key, value} entries",
        ),
        (
            "model: a/b\nconfig:\n  laod:\n    fields: []\n",
            ":3:3: config.laod: unknown key 'laod'; did you mean 'load'?",
        ),
        (
            "model: a/b\nconfig:\n  load:\n    fields: []\n    extra: 1\n",
            ":5:5: config.load.extra: unknown key 'extra'; valid keys: fields",
        ),
        (
            "model: a/b\nmetadataOverrides:\n  domain: embeding\nconfig: {}\n",
            ":3:11: metadataOverrides.domain: expected 'llm' or 'embedding'",
        ),
        ("model: [a]\nconfig: {}\n", ":1:8: model: expected the model key"),
        (
            "model: a/b\nconfig:\n  operation:\n    fields:\n      - key: llm.prediction.topKSampling\n"
            "        value: 20\n        vaule: 30\n",
            ":7:9: config.operation.fields[0].vaule: unknown key 'vaule'; did you mean 'value'?",
        ),
    ],
)
def test_a_model_yaml_whose_config_cannot_be_read_is_a_problem_at_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    err = _refused(tmp_path, "model.yaml", text, capsys)
    source = tmp_path / "model.yaml"
    assert any(line.startswith(f"{source}{expected}") for line in err.splitlines()), err


def _at(text: str, needle: str, nth: int = 0) -> str:
    """``LINE:COL`` of the ``nth`` occurrence of ``needle`` in ``text``."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - text.rfind(chr(10), 0, offset)}"


T = '{"key": "llm.prediction.temperature", "value": 0.5}'


@pytest.mark.parametrize(
    ("text", "needle", "expected"),
    [
        (
            '{"operation": {"fields": []},\n "tags": ["x"]}',
            '"tags"',
            "tags: unknown key 'tags'; valid keys: identifier, name, changed, operation, load",
        ),
        (
            '{"operation": {"fields": []},\n "nmae": "x"}',
            '"nmae"',
            "nmae: unknown key 'nmae'; did you mean 'name'?",
        ),
        (
            '{"operation": {"fields": [\n  {"key": "llm.prediction.temperature", "value": 0.5, "checked": true}]}}',
            '"checked"',
            "operation.fields[0].checked: unknown key 'checked'; valid keys: key, value",
        ),
        (
            '{"operation": {"fields": [\n  ' + T + ",\n  " + T + "]}}",
            '{"key"#1',
            "operation.fields[1]: llm.prediction.temperature is given twice (first at "
            "operation.fields[0]); keep one",
        ),
        (
            '{"operation": {"fields": [\n  {"key": "llm.prediction.temperatur", "value": 0.5}]}}',
            '{"key"',
            "operation.fields[0]: unknown LM Studio setting 'llm.prediction.temperatur'; "
            "did you mean 'llm.prediction.temperature'?",
        ),
        (
            '{"operation": {"fields": [], "feilds": []}}',
            '"feilds"',
            "operation.feilds: unknown key 'feilds'; did you mean 'fields'?",
        ),
        ('{"operation": [' + T + "]}", "[", "operation: expected a mapping with 'fields'"),
        ('{"operation": {"fields": []}, "name": 5}', "5", "name: expected a string"),
        (
            '{"operation": {"fields": []}, "changed": "yes"}',
            '"yes"',
            "changed: expected true or false",
        ),
        (
            '{"operation": {"fields": []}, "identifier": null}',
            "null",
            "identifier: expected a string",
        ),
    ],
)
def test_a_preset_part_that_would_be_ignored_is_a_problem_at_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str, expected: str
) -> None:
    source = tmp_path / "p.preset.json"
    source.write_text(text)
    needle, _, nth = needle.partition("#")
    code, _, err = _import([str(source), "--to", str(tmp_path / "p")], capsys)
    assert code == 3, err
    assert f"{source}:{_at(text, needle, int(nth or 0))}: {expected}" in err.splitlines()
    assert not (tmp_path / "p").exists()


def test_an_unknown_setting_far_from_every_known_one_is_a_problem_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _preset(tmp_path, {"operation": {"fields": [{"key": "zzz.qqq", "value": 1}]}})
    code, _, err = _import([str(source), "--to", str(tmp_path / "p")], capsys)
    assert code == 3
    assert "operation.fields[0]: unknown LM Studio setting 'zzz.qqq'" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--host", "127.0.0.1:1234"], "--host does not apply to 'import' without --from-host"),
        (["--timeout", "5"], "--timeout does not apply to 'import' without --from-host"),
        (["--model", "a/b"], "--model does not apply: no source is a preset with load settings"),
    ],
)
def test_an_option_that_does_not_apply_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, _, err = _import([str(PRESET), "--to", str(tmp_path / "p"), *argv], capsys)
    assert code == 2
    assert expected in err
    assert not (tmp_path / "p").exists()


def test_model_does_not_apply_to_a_model_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = SOURCES / "qwen3-8b.model.yaml"
    code, _, err = _import([str(source), "--model", "x/y", "--to", str(tmp_path / "p")], capsys)
    assert code == 2
    assert "--model does not apply" in err


def test_a_bad_profile_directory_variable_is_reported_not_replaced_by_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LMSPROFILES_PROFILES", " ")
    code, _, err = _import([str(PRESET)], capsys)
    assert code == 3
    assert err.startswith("LMSPROFILES_PROFILES: is empty")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# Empty parts


def test_a_preset_without_prediction_settings_writes_no_empty_request_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {
        "identifier": "@local:embed",
        "name": "embed",
        "changed": True,
        "operation": {"fields": []},
        "load": {"fields": [{"key": "embedding.load.contextLength", "value": 2048}]},
    }
    source = _preset(tmp_path, document)
    profiles = tmp_path / "p"
    argv = [str(source), "--model", "nomic/embed", "--to", str(profiles)]
    code, out, err = _import(argv, capsys)
    assert code == 0, err
    assert out == f"wrote {profiles / 'models' / 'embed.yaml'}\n"
    assert _files(profiles) == {"models/embed.yaml"}
    assert (
        f"warning: not written: {profiles / 'requests' / 'embed.yaml'}: the preset has no "
        "prediction settings a profile carries; there is no request overlay to write"
    ) in err.splitlines()


def test_a_preset_with_nothing_a_profile_carries_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = {"key": "llm.prediction.systemPrompt", "value": "Be brief."}
    source = _preset(tmp_path, {"operation": {"fields": [prompt]}, "load": {"fields": []}})
    code, _, err = _import([str(source), "--to", str(tmp_path / "p")], capsys)
    assert code == 3
    assert "warning: not imported: llm.prediction.systemPrompt (operation.fields[0])" in err
    assert f"{source}: nothing to import: none of its settings has a profile field" in err
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------------------------------
# `lms load` lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lms load a/b --gpu lots\n", ":1:20: --gpu must be off, max or a number"),
        ("  lms load a/b --flash\n", ":1:16: unknown lms load option --flash"),
        ("lms load a/b -c 0\n", ":1:17: -c must be a whole number >= 1, not '0'"),
        ("lms load a/b --ttl=soon\n", ":1:14: --ttl must be a whole number of seconds >= 1"),
        ("lms load a/b c/d\n", ":1:14: lms load takes one model key; got 'a/b' and 'c/d'"),
        ('lms load "$MODEL" --gpu max\n', ":1:10: '$MODEL' is expanded by the shell"),
        ("lms load a/b \\\n    --gpu lots\n", ":2:11: --gpu must be off, max or a number"),
        ("echo hi\nlms load a/b --gpu\n", ":2:14: --gpu needs a value"),
        (
            'lms load "a/b --gpu max\n',
            ':1:10: the shell cannot read this: the " quote is not closed',
        ),
        ("lms load 'a/b\n", ":1:10: the shell cannot read this: the ' quote is not closed"),
    ],
)
def test_lms_load_problems_point_at_the_offending_word(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    err = _refused(tmp_path, "start.sh", text, capsys)
    assert err.startswith(f"{tmp_path / 'start.sh'}{expected}")


def test_a_quoted_literal_dollar_is_no_shell_expansion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _import(["lms load a/b --identifier 'cost$'", "--to", str(tmp_path)], capsys)
    assert code == 0, err
    assert "identifier: cost$" in (tmp_path / "models" / "cost.yaml").read_text()


def test_an_unterminated_quote_on_the_command_line_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _import(['lms load "a/b --gpu max', "--to", str(tmp_path)], capsys)
    assert code == 3
    assert err.startswith('<command line>:1:10: the shell cannot read this: the " quote')


def test_a_flag_given_twice_keeps_the_last_as_lms_does_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "lms load a/b --identifier x --gpu max --context-length 4096 --gpu off"
    code, _, err = _import([line, "--to", str(tmp_path)], capsys)
    assert code == 0, err
    assert (
        "warning: not imported: --gpu (line 1): given again later on the line; lms load "
        "takes the last one (off)"
    ) in err.splitlines()
    text = (tmp_path / "models" / "x.yaml").read_text()
    assert "ratio: off" in text
    assert '#   --gpu (line 1) = "max"' in text
