"""Both YAML parsers give the same answers: ruamel.yaml.clib's C parser (used when installed)
and ruamel.yaml's pure-Python parser (the reference, and the fallback without the C one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmsprofiles import _yaml
from lmsprofiles._cli import main
from tests.conftest import EXAMPLE_PROFILES
from tests.yaml_parsers import C_PARSER, both, common_case, pure_python

CASES = [
    "",
    "---",
    "a: 1",
    "a: [1, 2, {b: c}]\n",
    "%YAML 1.1\n---\na: yes\nb: 0o17\nc: 017\nd: 1:30\n",
    "%YAML 1.2\n---\na: yes\n",
    "a: 2024-01-01\nb: !!timestamp 2024-01-01\n",
    "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n",
    "a: !append [x]\nb: !replace {c: 1}\nc: !reset\nd: !reset x\ne: !append x\n",
    "- !append [x]\n",
    "!reset\n",
    "a: !!omap [b: 1, c: 2]\nd: !!set {x}\ne: !!binary aGk=\nf: !foo 1\n",
    "a: 1\na: 2\n",
    "a: 1\n---\nb: 2\n",
    "a: *nope\n",
    "a: [1, 2\n",
    "a: 'unterminated\n",
    "a:\tb\n",
    "\ta: b\n",
    "a: b\r\nc: d\r\n",
    "a: b\rc: d\n",
    "a: \x85b\n",
    "a: b\u2028c: d\n",
    "a: \ufeffb\n",
    "a: \x07\n",
    'a: "\\/\\x41\\u00e9\\N\\_"\n',
    "a: |\n  text\n   more\nb: >-\n  folded\n  text\n",
    "? [a, b]\n: c\n",
    "? a\n",
    "{a: 1}: b\n",
    "a: .nan\nb: .inf\nc: 1e999\nd: 0x_1F\ne: 99999999999999999999\n",
    "a: !!int x\nb: !!float y\nc: !!null z\nd: !!bool 3\n",
    "a: &a [*a]\n",
    "a: &a b\nc: &a d\ne: *a\n",
    "x: " + "[" * 70 + "]" * 70 + "\n",
    "x: [" + ", ".join(["1"] * 25_000) + "]\n",
    "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
    + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, n in zip("abcde", "bcdef", strict=True)
    ),
    "model: m\nload:\n  contextLength: 8k\n  gpu: {ratio: max}\ninference: {temperature: 0.7}\n",
    "é: ü\n'日本': \"語\"\n😀: x\n",
    "a: b # comment\n# comment\nc: d\n",
    "a:\n- 1\n- 2\n",
    "- - - x\n",
    "[a, b]\n",
    "a: b: c\n",
    "a: - b\n",
    "'a': 1\n\"b\": 2\n",
    "a: @x\n",
]


@pytest.mark.skipif(C_PARSER is None, reason="ruamel.yaml.clib is not installed")
@pytest.mark.parametrize("text", CASES)
def test_both_parsers_answer_alike(text: str) -> None:
    fast, reference = both(text)
    assert fast == reference


@pytest.mark.skipif(C_PARSER is None, reason="ruamel.yaml.clib is not installed")
def test_both_parsers_answer_alike_under_limits() -> None:
    small = _yaml.Limits(max_file_bytes=200, max_depth=3, max_nodes=10)
    for text in CASES:
        fast, reference = both(text, small)
        assert fast == reference, text


@pytest.mark.skipif(C_PARSER is None, reason="ruamel.yaml.clib is not installed")
def test_the_example_profiles_are_read_by_the_c_parser() -> None:
    for file in sorted(EXAMPLE_PROFILES.rglob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        assert _yaml._parse_fast(C_PARSER, text, "f", _yaml.DEFAULT_LIMITS) is not None
        fast, reference = both(text)
        assert fast == reference


@pytest.mark.skipif(C_PARSER is None, reason="ruamel.yaml.clib is not installed")
def test_the_common_case_is_built_as_the_full_builder_builds_it() -> None:
    texts = [*CASES, *(f.read_text(encoding="utf-8") for f in EXAMPLE_PROFILES.rglob("*.yaml"))]
    small = _yaml.Limits(max_file_bytes=200, max_depth=3, max_nodes=10)
    taken = 0
    for text in texts:
        for limits in (_yaml.DEFAULT_LIMITS, small):
            found = common_case(text, limits)
            if found is not None:
                taken += 1
                assert found[0] == found[1], text
    assert taken >= 20


@pytest.mark.parametrize("broken", [False, True])
def test_the_cli_answers_alike_without_the_c_parser(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    broken: bool,
) -> None:
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLE_PROFILES, tmp_path / "profiles")
    if broken:
        (tmp_path / "profiles" / "models" / "coder.yaml").write_text(
            "model: x\nload: {contextLength: -1, gpu: [\n"
        )
    argv = ["--no-cache", "render", "--all", "--show-origin"]
    if broken:
        argv = ["--no-cache", "validate"]
    code = main(argv)
    fast = capsys.readouterr()
    with pure_python():
        assert main(argv) == code
    assert capsys.readouterr() == fast
