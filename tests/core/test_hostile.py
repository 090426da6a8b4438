"""Hostile input: every profile file and variable gets an answer (exit 0 or 3), never a traceback.

Each named case below is a file or variable that once crashed, hung or was silently accepted;
they run through the real CLI entry point on real files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from lmsprofiles._cli import main
from tests.conftest import WriteTree

CORPUS = Path(__file__).resolve().parent / "corpus"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """The CLI in-process in ``tmp_path``: returns (exit code, stdout, stderr)."""

    def call(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        for name in env or {}:
            monkeypatch.delenv(name)
        return code, out, err

    return call


def write(root: Path, name: str, data: bytes | str) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    target.write_bytes(data)
    return target


def problems_of(err: str) -> list[str]:
    lines = err.splitlines()
    assert lines and lines[-1].endswith("found"), err
    assert "Traceback" not in err
    return lines[:-1]


# ------------------------------------------------------------------------------------------
# Bounded parsing


def test_billion_laughs_is_refused_at_the_alias(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", (CORPUS / "billion-laughs.yaml").read_bytes())
    code, _, err = run("validate")
    assert code == 3
    [problem] = problems_of(err)
    assert problem.startswith("profiles/models/a.yaml:6:")
    assert "alias *a3 stands for 2111 values" in problem
    assert "more than 20000 values in one document" in problem
    assert "LMSPROFILES_MAX_NODES" in problem


def test_million_leaves_without_aliases_are_refused(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\nx: [" + "1," * 30_000 + "1]\n")
    code, _, err = run("validate")
    assert code == 3
    [problem] = problems_of(err)
    assert "more than 20000 values in one document" in problem


def test_deep_nesting_is_a_problem_and_other_files_are_still_checked(
    tmp_path: Path, run: Run
) -> None:
    root = tmp_path / "profiles"
    deep = "[" * 300 + "]" * 300
    write(root, "models/a.yaml", f"model: m\ninference:\n  structured:\n    jsonSchema: {deep}\n")
    write(root, "models/b.yaml", "model: m\nload:\n  contextLength: 0\n")
    code, _, err = run("validate")
    assert code == 3
    found = problems_of(err)
    assert found[0].startswith("profiles/models/a.yaml:4:")
    assert "nesting deeper than 64 levels (LMSPROFILES_MAX_DEPTH)" in found[0]
    assert found[1].startswith("profiles/models/b.yaml:3:18: load.contextLength")


def test_deep_block_nesting_in_every_position(tmp_path: Path, run: Run) -> None:
    text = "model: m\nload:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400))
    write(tmp_path / "profiles", "models/a.yaml", text)
    code, _, err = run("validate")
    assert code == 3
    assert "nesting deeper than 64 levels" in problems_of(err)[0]


def test_nesting_at_the_limit_validates_and_renders(tmp_path: Path, run: Run) -> None:
    # 64 levels in all: the file's mapping, inference, structured, jsonSchema and 60 below
    inner = "{a: " * 59 + "1" + "}" * 59  # with {p: ...} around it
    text = f"model: m\ninference:\n  structured:\n    type: json\n    jsonSchema: {{p: {inner}}}\n"
    write(tmp_path / "profiles", "models/a.yaml", text)
    assert run("validate")[0] == 0
    for fmt in ("json", "yaml"):
        code, _out, err = run("render", "a", "--format", fmt, "--show-origin")
        assert (code, err) == (0, "")
    assert json.loads(run("render", "a", "--format", "json")[1])["inference"]["structured"]


def test_a_50_mb_profile_is_refused_without_reading_it_all(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\n" + "# padding\n" * 5_000_000)
    code, _, err = run("validate")
    assert code == 3
    [problem] = problems_of(err)
    assert problem.startswith("profiles/models/a.yaml:26215:")
    assert "larger than 262144 bytes (LMSPROFILES_MAX_FILE_BYTES)" in problem


def test_a_file_size_limit_far_above_any_file_is_no_allocation_of_that_size(
    tmp_path: Path, run: Run
) -> None:
    """The limit bounds what is read; it is not a buffer size (10**15 bytes cannot be had)."""
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\n")
    assert run("validate", env={"LMSPROFILES_MAX_FILE_BYTES": str(10**15)})[0] == 0
    write(root, "models/b.yaml", "model: m\n" + "# padding\n" * 300_000)  # 3 MB
    code, _, err = run("validate", env={"LMSPROFILES_MAX_FILE_BYTES": str(2_500_000)})
    assert code == 3
    [problem] = problems_of(err)
    assert problem.startswith("profiles/models/b.yaml:250001:2: file is larger than 2500000")


def test_limits_can_be_raised(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "profiles"
    deep = "[" * 80 + "]" * 80
    write(root, "models/a.yaml", f"model: m\nx: {deep}\n")
    assert "nesting deeper" in run("validate")[2]
    code, _, err = run("validate", env={"LMSPROFILES_MAX_DEPTH": "100"})
    assert code == 3
    assert "unknown key 'x'" in err
    code, _, err = run("validate", env={"LMSPROFILES_MAX_DEPTH": "lots"})
    assert "LMSPROFILES_MAX_DEPTH: " in err


# ------------------------------------------------------------------------------------------
# Every file accounted for


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("dangling symlink", lambda m: (m / "b.yaml").symlink_to(m / "nowhere.yaml")),
        ("symlink loop", lambda m: (m / "b.yaml").symlink_to(m / "b.yaml")),
        ("directory named like a profile", lambda m: (m / "b.yaml").mkdir()),
        ("fifo", lambda m: os.mkfifo(m / "b.yaml")),
    ],
)
def test_a_model_file_that_cannot_be_read_is_a_problem(
    tmp_path: Path, run: Run, name: str, make: Callable[[Path], None]
) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\n")
    make(root / "models")
    code, _, err = run("validate")
    assert code == 3
    [problem] = problems_of(err)
    assert problem.startswith("profiles/models/b.yaml: cannot read: ")


def test_models_linked_to_itself_is_a_problem(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "profiles"
    root.mkdir()
    (root / "models").symlink_to(root / "models")
    code, _, err = run("validate")
    assert code == 3
    [problem] = problems_of(err)
    assert problem.startswith("profiles/models: cannot read: ")


@pytest.mark.parametrize("name", ["global.yaml", "requests/r.yaml"])
def test_dangling_global_and_request_files_are_problems(
    tmp_path: Path, run: Run, name: str
) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\n")
    (root / name).parent.mkdir(exist_ok=True)
    (root / name).symlink_to(root / "gone")
    code, _, err = run("validate")
    assert code == 3
    assert problems_of(err) == [f"profiles/{name}: cannot read: No such file or directory"]


def _without_privilege(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a process that file permissions apply to (root's override dropped)."""
    code = "import sys; from lmsprofiles._cli import main; sys.exit(main(sys.argv[1:]))"
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: every file is readable")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("target", ["models/a.yaml", "models", "requests", "."])
def test_unreadable_files_and_directories_are_problems(tmp_path: Path, target: str) -> None:
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\n")
    write(root, "requests/r.yaml", "{}\n")
    (root / target).chmod(0)
    try:
        result = _without_privilege(["validate"], tmp_path)
    finally:
        (root / target).chmod(0o755)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    shown = "profiles" if target == "." else f"profiles/{target}"
    assert f"{shown}: cannot read: Permission denied" in result.stderr.splitlines()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"model: m\nload:\n  x: \xff\n", "profiles/models/a.yaml:3:6: not UTF-8 text"),
        ("model: m\n".encode("utf-16"), "profiles/models/a.yaml:1:1: UTF-16 text"),
        ("model: m\n".encode("utf-16-be"), "profiles/models/a.yaml:1:1: UTF-16 text"),
        (b"model: m\nx: \x01\n", "profiles/models/a.yaml:2:4: invalid YAML: unacceptable"),
    ],
    ids=["latin-1 byte", "utf-16 with BOM", "utf-16 without BOM", "control character"],
)
def test_bytes_that_are_not_utf8_yaml(tmp_path: Path, run: Run, data: bytes, expected: str) -> None:
    write(tmp_path / "profiles", "models/a.yaml", data)
    code, _, err = run("validate")
    assert code == 3
    assert problems_of(err)[0].startswith(expected)


def test_a_utf8_bom_is_accepted(tmp_path: Path, run: Run) -> None:
    write(tmp_path / "profiles", "models/a.yaml", b"\xef\xbb\xbfmodel: m\n")
    assert run("validate")[0] == 0


# ------------------------------------------------------------------------------------------
# Numbers are numbers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  temperature: .nan\n", "inference.temperature: must be a number >= 0, not NaN"),
        ("  topPSampling: .nan\n", "inference.topPSampling: must be a number from 0 to 1, not NaN"),
        ("  temperature: .inf\n", "got .inf"),
        ("  repeatPenalty: -.inf\n", "got -.inf"),
        ("  temperature: 1e999\n", "got .inf"),
        (
            "  structured: {type: json, jsonSchema: {maximum: .inf}}\n",
            "numbers in it must not be NaN or infinity (got .inf at maximum)",
        ),
    ],
)
def test_nan_and_infinity_are_rejected(tmp_path: Path, run: Run, line: str, expected: str) -> None:
    write(tmp_path / "profiles", "models/a.yaml", "model: m\ninference:\n" + line)
    code, _, err = run("validate")
    assert code == 3
    assert expected in problems_of(err)[0]


def test_nan_in_gpu_ratio_and_environment(tmp_path: Path, run: Run) -> None:
    write(tmp_path / "profiles", "models/a.yaml", "model: m\nload:\n  gpu:\n    ratio: .nan\n")
    code, _, err = run("validate")
    assert "load.gpu.ratio: must be a number from 0 to 1, 'max' or 'off'" in err
    write(tmp_path / "profiles", "models/a.yaml", "model: m\n")
    for value in ("nan", "NaN", "inf", "-Infinity", "1e999"):
        code, _, err = run("validate", env={"LMSPROFILES_INFERENCE__TEMPERATURE": value})
        assert code == 3, value
        assert "not NaN or infinity" in err
    code, _, err = run(
        "validate", env={"LMSPROFILES_INFERENCE__STRUCTURED": '{"type": "json", "jsonSchema": NaN}'}
    )
    assert code == 3


def test_integers_beyond_64_bits_are_problems(tmp_path: Path, run: Run) -> None:
    big = "5" * 5000
    write(tmp_path / "profiles", "models/a.yaml", f"model: m\nload:\n  contextLength: {big}\n")
    code, _, err = run("validate")
    assert code == 3
    assert "profiles/models/a.yaml:3:18: load.contextLength: integer out of range" in err
    write(tmp_path / "profiles", "models/a.yaml", "model: m\n")
    code, _, err = run("validate", env={"LMSPROFILES_LOAD__CONTEXT_LENGTH": big})
    assert code == 3
    assert "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: integer out of range" in err


def test_render_json_is_always_strict_json(tmp_path: Path, run: Run) -> None:
    write(
        tmp_path / "profiles",
        "models/a.yaml",
        "model: m\ninference:\n  structured:\n    type: json\n"
        "    jsonSchema: {const: 2024-01-01, b: !!str 3, big: 12345678901234567890.5}\n",
    )
    code, out, err = run("render", "a", "--format", "json", "--show-origin")
    assert (code, err) == (0, "")
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc["inference"]["structured"]["jsonSchema"]["const"] == "2024-01-01"
    assert doc["inference"]["structured"]["jsonSchema"]["b"] == "3"


# ------------------------------------------------------------------------------------------
# Merge tags mean what the docs say


def test_replace_on_scalars_gives_the_typed_value(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "global.yaml": "inference:\n  draftModel: small\n  maxTokens: 10\n",
            "models/a.yaml": (
                "model: m\ninference:\n  maxTokens: !replace 64\n  draftModel: !replace null\n"
                "  stopStrings: !replace [a]\n"
            ),
        }
    )
    cfg = lmsprofiles.load(root, env={}).resolve("a")
    assert cfg.inference == {"maxTokens": 64, "stopStrings": ["a"]}
    assert cfg.origin("inference.draftModel").unset
    (root / "models/a.yaml").write_text("model: m\ninference:\n  temperature: !replace '0.5'\n")
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env={})
    assert str(caught.value) == (
        "profiles/models/a.yaml:3:16: inference.temperature: must be a number >= 0 "
        "(got the string '0.5')"
    )


def test_reset_and_append_on_every_kind(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "global.yaml": "inference:\n  stopStrings: [x]\n  temperature: 1\n  maxTokens: 3\n",
            "models/a.yaml": (
                "model: m\ninference:\n  stopStrings: !append [y]\n  temperature: !reset\n"
                "  maxTokens: !reset ''\n"
            ),
        }
    )
    with pytest.raises(ProfileError, match="!reset takes no value"):
        lmsprofiles.load(root, env={})
    (root / "models/a.yaml").write_text(
        "model: m\ninference:\n  stopStrings: !append [y]\n  temperature: !reset\n"
    )
    assert lmsprofiles.load(root, env={}).resolve("a").inference == {
        "stopStrings": ["x", "y"],
        "maxTokens": 3,
    }


# ------------------------------------------------------------------------------------------
# Every YAML feature has a defined answer


def test_merge_keys_merge_like_yaml_users_expect(tmp_path: Path, run: Run) -> None:
    write(
        tmp_path / "profiles",
        "models/a.yaml",
        "model: m\ninference:\n  <<: {temperature: 0.5, maxTokens: 7}\n  maxTokens: 9\n"
        "  structured:\n    type: json\n    jsonSchema:\n      <<: [{a: 1}, {a: 2, b: 2}]\n",
    )
    code, out, err = run("render", "a", "--format", "json")
    assert (code, err) == (0, "")
    inference = json.loads(out)["inference"]
    assert inference["temperature"] == 0.5
    assert inference["maxTokens"] == 9
    assert inference["structured"]["jsonSchema"] == {"a": 1, "b": 2}


def test_omap_is_an_ordered_mapping(tmp_path: Path, run: Run) -> None:
    write(
        tmp_path / "profiles",
        "models/a.yaml",
        "model: m\ninference:\n  structured:\n    type: json\n    jsonSchema: !!omap [b: 1, a: 2]\n",
    )
    code, out, err = run("render", "a", "--format", "json")
    assert (code, err) == (0, "")
    assert list(json.loads(out)["inference"]["structured"]["jsonSchema"]) == ["b", "a"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!set {a, b}", "3:40: inference.structured.jsonSchema: !!set is not supported"),
        ("!!binary aGVsbG8=", "3:40: inference.structured.jsonSchema: !!binary is not supported"),
        ("{a: !foo 1}", "3:44: inference.structured.jsonSchema.a: unknown tag !foo"),
        ("[!foo 1]", "3:41: inference.structured.jsonSchema[0]: unknown tag !foo"),
        ("!!python/object:os.system {}", "unknown tag !!python/object:os.system"),
        ("{!foo a: 1}", "unknown tag !foo"),
        ("{[a]: 1}", "key a list is not a string"),
        ("!!omap [a, b]", "!!omap needs a list of one-key mappings"),
        ("{<<: 3}", "<< (merge key) needs a mapping or a list of mappings"),
        ("!!int x", "cannot read 'x' as !!int"),
    ],
)
def test_yaml_features_that_are_problems(
    tmp_path: Path, run: Run, value: str, expected: str
) -> None:
    text = f"model: m\ninference:\n  structured: {{type: json, jsonSchema: {value}}}\n"
    write(tmp_path / "profiles", "models/a.yaml", text)
    code, _, err = run("validate")
    assert code == 3
    assert any(expected in p for p in problems_of(err)), err


def test_timestamps_are_strings(tmp_path: Path, run: Run) -> None:
    write(
        tmp_path / "profiles", "models/a.yaml", "model: m\ninference:\n  draftModel: 2024-01-01\n"
    )
    code, out, _ = run("render", "a", "--format", "json")
    assert code == 0
    assert json.loads(out)["inference"]["draftModel"] == "2024-01-01"


def test_undefined_alias_and_second_document(tmp_path: Path, run: Run) -> None:
    write(tmp_path / "profiles", "models/a.yaml", "model: *nope\n")
    assert "profiles/models/a.yaml:1:8: model: found undefined alias 'nope'" in run("validate")[2]
    write(tmp_path / "profiles", "models/a.yaml", "model: m\n---\nmodel: n\n")
    assert "profiles/models/a.yaml:2:1: expected a single document" in run("validate")[2]


def test_a_constructor_error_leaves_nothing_on_stderr(tmp_path: Path) -> None:
    """A bad tag next to a duplicate key once printed "Exception ignored in ..." later on."""
    root = tmp_path / "profiles"
    write(root, "models/a.yaml", "model: m\nload:\n  x: !replace 3\n  x: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "lmsprofiles", "--profiles", str(root), "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("profiles/models/a.yaml:3:3: load.x: unknown key 'x'; valid keys:")
    assert lines[1:] == ["profiles/models/a.yaml:4:3: duplicate key 'x'", "2 problems found"]


# ------------------------------------------------------------------------------------------
# Environment


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"LMSPROFILES_LOAD__GPU": "null", "LMSPROFILES_LOAD__GPU__RATIO": "0.5"},
            "LMSPROFILES_LOAD__GPU__RATIO: load.gpu.ratio: also set by LMSPROFILES_LOAD__GPU; "
            "keep one",
        ),
        (
            {"LMSPROFILES_LOAD__GPU": '{"ratio": 1}', "LMSPROFILES_LOAD__GPU__RATIO": "0.5"},
            "LMSPROFILES_LOAD__GPU__RATIO: load.gpu.ratio: also set by LMSPROFILES_LOAD__GPU; "
            "keep one",
        ),
        (
            {
                "LMSPROFILES_LOAD__CONTEXT_LENGTH": "1000",
                "LMSPROFILES_LOAD__CONTEXTLENGTH": "2000",
            },
            "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: also set by "
            "LMSPROFILES_LOAD__CONTEXTLENGTH; keep one",
        ),
        (
            {"LMSPROFILES_LOAD__CONTEXT_LENGTH": "1_000"},
            "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: must be an integer >= 1 "
            "(got '1_000')",
        ),
        (
            {"LMSPROFILES_LOAD__CONTEXT_LENGTH": "\uff11\uff12"},
            "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: must be an integer >= 1",
        ),
        (
            {
                "LMSPROFILES_INFERENCE__STRUCTURED": '{"type": "json", "jsonSchema": '
                + '{"a": ' * 10_000
                + "1"
                + "}" * 10_001
            },
            "LMSPROFILES_INFERENCE__STRUCTURED: inference.structured: nesting deeper than 64 "
            "levels (LMSPROFILES_MAX_DEPTH)",
        ),
        (
            {"LMSPROFILES_INFERENCE__STOP_STRINGS": "[" * 100_000},
            "LMSPROFILES_INFERENCE__STOP_STRINGS: inference.stopStrings: nesting deeper than 64",
        ),
        (
            {"LMSPROFILES_PROFILES": ""},
            "LMSPROFILES_PROFILES: is empty; name a directory, or unset it for ./profiles",
        ),
    ],
    ids=[
        "null parent and child",
        "object parent and child",
        "two spellings",
        "underscores in digits",
        "full-width digits",
        "deep JSON object",
        "deep JSON list",
        "empty profiles dir",
    ],
)
def test_environment_answers(tmp_path: Path, run: Run, env: dict[str, str], expected: str) -> None:
    write(tmp_path / "profiles", "models/a.yaml", "model: m\n")
    code, _, err = run("--profiles", "profiles", "validate", env=env)
    assert code == 3
    assert any(p.startswith(expected) for p in problems_of(err)), err


# ------------------------------------------------------------------------------------------
# Immutable results


def test_resolved_results_cannot_change_the_profile_set(write_tree: WriteTree) -> None:
    root = write_tree(
        {"models/a.yaml": "model: m\nload:\n  gpu: {ratio: 0.5}\ninference:\n  stopStrings: [x]\n"}
    )
    profiles = lmsprofiles.load(root, env={})
    cfg = profiles.resolve("a")
    values = cfg.values
    values["load"]["gpu"]["ratio"] = 1
    values["inference"]["stopStrings"].append("y")
    values["ttl"] = 5
    with pytest.raises(TypeError):
        cfg.origins["load.gpu.ratio"] = cfg.origin("inference.stopStrings")  # type: ignore[index]
    cfg.load["gpu"]["ratio"] = 1.0  # type: ignore[index]
    cfg.inference["stopStrings"].append("y")  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        profiles.models["b"] = profiles.models["a"]  # type: ignore[index]
    again = profiles.resolve("a")
    assert (
        again.values
        == cfg.values
        == {
            "load": {"gpu": {"ratio": 0.5}},
            "inference": {"stopStrings": ["x"]},
        }
    )
    assert again.load == {"gpu": {"ratio": 0.5}}
    assert again.inference == {"stopStrings": ["x"]}
    assert profiles.resolve("a", temperature=1).inference == {
        "stopStrings": ["x"],
        "temperature": 1,
    }
    assert list(profiles.models) == ["a"]
