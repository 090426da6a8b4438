"""Fuzzing the CLI: for any profile bytes, YAML document or variable, ``validate`` answers.

Every case writes real files and runs the real CLI entry point in-process; a smaller number
run as separate processes to prove that no traceback reaches stderr. The answer must be exit
0 (and then ``render --format json`` prints strict JSON for every model) or exit 3 with one
problem per line. Run with ``pytest -m fuzz``; the quick local run skips these.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmsprofiles import _fields as f
from lmsprofiles._cli import main
from lmsprofiles._keys import fields_of
from lmsprofiles._overrides import _candidates
from tests.fuzz.conftest import count_case

pytestmark = pytest.mark.fuzz

FILE_KINDS = ("global.yaml", "models/a.yaml", "models/b.yml", "requests/r.yaml")
SETTINGS = settings(
    deadline=10_000,  # a bound per case, far above the milliseconds a case takes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# ------------------------------------------------------------------------------------------
# Strategies: YAML text built from pieces a profile has, plus everything hostile


def _names() -> list[str]:
    names = {"model", "identifier", "type", "ttl", "deploy", "load", "inference", "requests"}
    for model in (f.LlmLoad, f.Gpu, f.Inference, f.Structured, f.RawTools, f.PromptTemplate):
        for alias, field in fields_of(model).items():
            names |= {alias, field.name}
    return sorted(names)


KEYS = st.one_of(st.sampled_from(_names()), st.text(max_size=6), st.sampled_from(["<<", "? x"]))
SCALARS = st.one_of(
    st.sampled_from(
        [
            "null",
            "~",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "4096",
            "0.5",
            "1e999",
            ".nan",
            ".inf",
            "-.inf",
            "2024-01-01",
            "0x1F",
            "0o17",
            "1_000",
            "'64'",
            '"x"',
            "max",
            "off",
            "8k",
            "2h",
            "json",
            "none",
            "llm",
            "embedding",
            "q8_0",
            "5" * 30,
            "''",
            "|\n  text",
            "*a",
            "*b",
            "!!binary aGk=",
            "!!str 3",
            "!!int x",
            "!!float 1",
            "!!null ''",
            "!!timestamp 2020-01-01",
            "!foo 1",
            "!reset",
            "!replace 3",
            "!replace null",
            "!append [x]",
            "!append x",
            "[]",
            "{}",
            "\t",
            "- ",
            "&a 1",
            "*",
            "@",
            "`x`",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.text(max_size=8).map(json.dumps),
)


def _yaml_value(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return SCALARS
    inner = _yaml_value(depth - 1)
    flow_list = st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
    flow_map = st.lists(st.tuples(KEYS, inner), max_size=4).map(
        lambda pairs: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"
    )
    prefix = st.sampled_from(
        [
            "",
            "",
            "",
            "&a ",
            "&b ",
            "!replace ",
            "!append ",
            "!reset ",
            "!!omap ",
            "!!set ",
            "!!map ",
            "!!seq ",
            "!bad ",
        ]
    )
    nested = st.tuples(prefix, st.one_of(flow_list, flow_map)).map("".join)
    return st.one_of(inner, nested)


def _block(depth: int, indent: int = 0) -> st.SearchStrategy[str]:
    pad = " " * indent
    value = _yaml_value(2)
    if depth > 0:
        value = st.one_of(value, _block(depth - 1, indent + 2).map(lambda b: "\n" + b))
    line = st.tuples(KEYS, value).map(lambda kv: f"{pad}{kv[0]}: {kv[1]}")
    item = value.map(lambda v: f"{pad}- {v}")
    return st.one_of(
        st.lists(line, min_size=1, max_size=5), st.lists(item, min_size=1, max_size=3)
    ).map("\n".join)


DOCUMENTS = st.one_of(
    _block(3),
    _block(2).map(lambda b: "model: m\n" + b),
    st.integers(60, 400).map(lambda n: "model: m\nx: " + "[" * n + "]" * n),
    st.sampled_from(["", "---", "--- |\n x", "%YAML 1.1\n---\na: yes", "a: 1\n---\nb: 2", "- x"]),
)
FILES = st.dictionaries(st.sampled_from(FILE_KINDS), DOCUMENTS.map(str.encode), max_size=3)
RAW = st.dictionaries(
    st.sampled_from(FILE_KINDS),
    st.one_of(
        st.binary(max_size=200),
        DOCUMENTS.map(lambda d: d.encode("utf-16")),
        DOCUMENTS.map(lambda d: b"\xef\xbb\xbf" + d.encode()),
        st.tuples(DOCUMENTS, st.binary(max_size=4)).map(lambda t: t[0].encode() + t[1]),
    ),
    max_size=3,
)
ENV_NAMES = st.one_of(
    st.sampled_from(_candidates()),
    st.sampled_from(
        [
            "LMSPROFILES_MODELS__A__LOAD__CONTEXT_LENGTH",
            "LMSPROFILES_MODELS__B__TTL",
            "LMSPROFILES_LOAD__GPU",
            "LMSPROFILES_X",
            "LMSPROFILES_MODELS__A",
        ]
    ),
)
ENV_VALUES = st.one_of(
    SCALARS,
    st.text(max_size=12).filter(lambda t: "\x00" not in t),
    st.integers(1, 3000).map(lambda n: "[" * n),
    st.integers(1, 200).map(lambda n: '{"a": ' * n + "1" + "}" * n),
    st.sampled_from(['{"ratio": NaN}', '{"type": "json", "jsonSchema": {"a": 1e999}}', '["x"]']),
)
ENVS = st.dictionaries(ENV_NAMES, ENV_VALUES, max_size=3)


# ------------------------------------------------------------------------------------------
# Running one case


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _write(root: Path, files: dict[str, bytes]) -> None:
    (root / "models").mkdir(parents=True)
    (root / "models" / "base.yaml").write_text("model: m\n")
    for name, data in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(data)


def check_case(files: dict[str, bytes], env: dict[str, str] | None = None) -> None:
    """validate answers 0 or 3 without a traceback; when valid, render prints strict JSON."""
    count_case()
    with tempfile.TemporaryDirectory() as tmp, _environment(env or {}):
        root = Path(tmp) / "profiles"
        _write(root, files)
        code, out, err = _cli(["--profiles", str(root), "validate", "--json"])
        assert code in (0, 3), err
        document = json.loads(out, parse_constant=_reject)
        assert document["valid"] is (code == 0)
        for problem in document["problems"]:
            assert problem["message"]
        if code == 0:
            for model in document["models"]:
                code, out, err = _cli(
                    ["--profiles", str(root), "render", model, "--format", "json"]
                )
                assert (code, err) == (0, "")
                json.loads(out, parse_constant=_reject)


def _reject(constant: str) -> Any:
    raise AssertionError(f"not JSON: {constant}")


@settings(SETTINGS, max_examples=4000)
@given(FILES)
def test_yaml_documents(files: dict[str, bytes]) -> None:
    check_case(files)


@settings(SETTINGS, max_examples=3000)
@given(RAW)
def test_bytes(files: dict[str, bytes]) -> None:
    check_case(files)


@settings(SETTINGS, max_examples=3000)
@given(ENVS, FILES)
def test_environment(env: dict[str, str], files: dict[str, bytes]) -> None:
    check_case(files, env)


@settings(SETTINGS, max_examples=60)
@given(st.one_of(FILES, RAW), ENVS)
def test_no_traceback_reaches_stderr_of_a_real_process(
    files: dict[str, bytes], env: dict[str, str]
) -> None:
    count_case()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "profiles"
        _write(root, files)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
        result = subprocess.run(
            [sys.executable, "-m", "lmsprofiles", "--profiles", str(root), "validate"],
            env={**environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode in (0, 3), result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    if result.returncode == 3:
        assert result.stderr.splitlines()[-1].endswith("found")
