"""Catalog parsing and validation: the shipped catalog, custom catalogs, errors with positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import lmstudio as lms
import pytest

from lmsprofiles._errors import ProfileError
from lmsprofiles.emulator import (
    Catalog,
    CatalogError,
    Emulator,
    default_catalog,
    load_catalog,
    parse_catalog,
)
from tests.emulator.conftest import CODER, GEMMA, NOMIC, QWEN

SMALL = """\
settings:
  memoryBudget: 2 GiB
  contextPolicy: reject
  defaultContextLength: 1024
models:
  - modelKey: acme/tiny
    type: llm
    format: gguf
    displayName: Tiny
    path: acme/tiny-GGUF/tiny.gguf
    sizeBytes: 1GB
    maxContextLength: 4096
    kvBytesPerToken: 1024
    faults:
      loadSeconds: 0.1
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_default_catalog_has_the_models_the_example_profiles_use() -> None:
    catalog = default_catalog()
    models = {m.model_key: m for m in catalog.models}
    assert set(models) == {QWEN, CODER, GEMMA, NOMIC}
    assert (models[QWEN].type, models[QWEN].max_context_length) == ("llm", 40960)
    assert models[CODER].max_context_length == 131072
    assert (models[NOMIC].type, models[NOMIC].size_bytes) == ("embedding", 84106624)
    assert models[NOMIC].max_context_length == 2048
    assert models[GEMMA].max_context_length == 32768
    assert all(m.format == "gguf" for m in catalog.models)
    at_max = sum(m.memory_bytes(m.max_context_length) for m in catalog.models)
    assert at_max <= catalog.settings.memory_budget == 48 * 1024**3
    assert load_catalog(None) == catalog


def test_custom_catalog_file(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, SMALL))
    assert catalog.settings.memory_budget == 2 * 1024**3
    (tiny,) = catalog.models
    assert tiny.size_bytes == 10**9
    assert tiny.faults.load_seconds == 0.1
    with Emulator(_write(tmp_path, SMALL)).running() as emu, lms.Client(emu.host) as client:
        assert [m.model_key for m in client.list_downloaded_models()] == ["acme/tiny"]
        handle = client.llm.load_new_instance("acme/tiny")
        assert handle.get_context_length() == 1024
        with pytest.raises(lms.LMStudioServerError, match="maxContextLength"):
            client.llm.load_new_instance("acme/tiny", config={"contextLength": 8192})


def test_empty_catalog_is_valid() -> None:
    assert parse_catalog("") == Catalog()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "models:\n  - modelKey: x\n    tpye: llm\n",
            "c.yaml:3:5: models[0].tpye: unknown key 'tpye'; did you mean 'type'?",
        ),
        (
            "settings:\n  budget: 1GB\n",
            "c.yaml:2:3: settings.budget: unknown key 'budget'; did you mean 'memoryBudget'?",
        ),
        (
            "setting:\n  memoryBudget: 1GB\n",
            "c.yaml:1:1: setting: unknown key 'setting'; did you mean 'settings'?",
        ),
        (
            "settings:\n  memoryBudget: lots\n",
            "c.yaml:2:3: settings.memoryBudget: not a size: 'lots' (use bytes or e.g. '48GiB', "
            "'512MB')",
        ),
        (
            "settings:\n  contextPolicy: squash\n",
            "c.yaml:2:3: settings.contextPolicy: must be 'clamp', 'reject' or 'accept' "
            "(got the string 'squash')",
        ),
        (
            "settings:\n  progressInterval: -1\n",
            "c.yaml:2:3: settings.progressInterval: must be greater than 0 (got -1)",
        ),
        ("settings:\n  unresponsive: maybe\n", "c.yaml:2:3: settings.unresponsive: must be"),
        ("settings: [1]\n", "c.yaml:1:1: settings: must be a mapping (got a list)"),
        ("settings: {a: 1\n", "c.yaml:2:1: invalid YAML: "),
        ("settings: {}\nsettings: {}\n", "c.yaml:2:1: duplicate key 'settings'"),
        ("- 1\n", "c.yaml:1:1: expected a mapping of keys, got a list"),
        (
            "settings: !replace {}\n",
            "c.yaml:1:11: settings: !replace is a profile merge tag; a catalog has none",
        ),
        (
            "settings: " + "[" * 3000 + "]" * 3000 + "\n",
            "c.yaml:1:",  # the nesting limit of profile files, not a RecursionError
        ),
    ],
)
def test_problems_have_file_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "c.yaml")
    assert isinstance(caught.value, ProfileError)
    assert caught.value.exit_code == 3
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value


def test_every_missing_field_is_reported_at_the_model() -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog("models:\n  - modelKey: x\n    type: llm\n", "c.yaml")
    missing = sorted((p.path, p.message) for p in caught.value.problems)
    assert missing == [
        (f"models[0].{key}", f"missing required key '{key}'")
        for key in ("displayName", "format", "maxContextLength", "path", "sizeBytes")
    ]
    assert {(p.line, p.column) for p in caught.value.problems} == {(2, 5)}


def test_a_duplicate_model_key_is_reported_at_the_second_one() -> None:
    model = (
        "  - {modelKey: a, type: llm, format: gguf, displayName: A, path: %s, sizeBytes: 1,"
        " maxContextLength: 8}\n"
    )
    with pytest.raises(CatalogError) as caught:
        parse_catalog("models:\n" + model % "p1" + model % "p2", "c.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "c.yaml:3:6: models[1].modelKey: 'a' is also the modelKey of models[0]"
    ]
    with pytest.raises(CatalogError) as caught:  # a path that is another model's key
        parse_catalog("models:\n" + model % "p1" + model.replace("a,", "b,") % "a", "c.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "c.yaml:3:60: models[1].path: 'a' is also the modelKey of models[0]"
    ]


def test_embedding_models_cannot_claim_vision() -> None:
    text = (
        "models:\n  - {modelKey: e, type: embedding, format: gguf, displayName: E, path: e,"
        " sizeBytes: 1, maxContextLength: 8, vision: true}\n"
    )
    with pytest.raises(CatalogError, match="llm models only"):
        parse_catalog(text)


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(missing)
    assert [str(p) for p in caught.value.problems] == [
        f"{missing}: cannot read the catalog: No such file or directory"
    ]
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}: cannot read the catalog: is a directory"
    ]


def test_a_catalog_that_is_no_utf8_text_says_where(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"settings:\n  memoryBudget: \xff\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:17: not UTF-8 text (invalid start byte: byte 0xff)"
    ]


def test_the_catalog_example_in_the_docs_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text("utf-8")
    example = doc.split("## Catalog", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (model,) = parse_catalog(example, "docs/emulator.md").models
    info = model.wire_info()
    assert info["publisher"] == "lmstudio-community"
    assert info["indexedModelIdentifier"] == model.path
    assert info["deviceIdentifier"] is None


def test_publisher_and_indexed_identifier_default_from_the_path() -> None:
    (model,) = parse_catalog(SMALL).models
    info = model.wire_info()
    assert (info["publisher"], info["indexedModelIdentifier"]) == (
        "acme",
        "acme/tiny-GGUF/tiny.gguf",
    )
    custom = parse_catalog(
        SMALL.replace("    sizeBytes: 1GB\n", "    sizeBytes: 1GB\n    publisher: Acme Labs\n")
    )
    assert custom.models[0].wire_info()["publisher"] == "Acme Labs"


def test_a_catalog_is_read_within_the_limits_of_profile_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("settings: " + "[" * 70 + "]" * 70 + "\n")
    with pytest.raises(
        CatalogError, match=r"nesting deeper than 64 levels \(LMSPROFILES_MAX_DEPTH\)"
    ):
        load_catalog(path)
    monkeypatch.setenv("LMSPROFILES_MAX_DEPTH", "100")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:1: settings: must be a mapping (got a list)"
    ]
    monkeypatch.setenv("LMSPROFILES_MAX_DEPTH", "deep")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        "LMSPROFILES_MAX_DEPTH: must be an integer >= 1 (got 'deep')"
    ]
