"""The field tables of docs/fields.md and docs/profiles.md agree with the field table.

docs/fields.md's three tables are the field table rendered as Markdown, row for row (on a
mismatch the assertion shows the table to paste). docs/profiles.md describes the accepted
fields in prose; its tables must list exactly the fields the schema accepts, with their
snake_case spellings, ranges, choices and ``false`` handling, the checkbox fields, the rejected
fields and the synonyms.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lmsprofiles import _fieldtable as t

REPO = Path(__file__).resolve().parents[2]
FIELDS_DOC = REPO / "docs" / "fields.md"
PROFILES_DOC = REPO / "docs" / "profiles.md"

# --------------------------------------------------------------------------------------------
# docs/fields.md

HEADER = (
    "| Field | KV key | `@lmstudio/sdk` 2.0.0 | `lmstudio` 1.5 | Profiles |",
    "|---|---|---|---|---|",
)
PREDICTION = "llm.prediction."


def render(section: t.Section, domain: t.Domain) -> list[str]:
    """The Markdown table of the fields of ``section`` that ``domain`` models have."""
    lines = list(HEADER)
    for row in t.rows(section, domain):
        keys = [k.removeprefix(PREDICTION) for k in row.keys.get(domain, ())]
        if keys:
            kv = ", ".join(f"`{key}`" for key in keys) + (" (checkbox)" if row.checkbox else "")
        else:
            kv = "the keys it lists" if row.rejects else "—"
        profiles = "accepted" if row.accepted else "rejected"
        lines.append(f"| `{row.name}` | {kv} | {row.ts[domain]} | {row.python} | {profiles} |")
    return lines


def table_lines(doc: Path, heading: str) -> list[str]:
    """The lines of the first table after the heading that contains ``heading`` (or of the
    table whose first line is ``heading``)."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    (start,) = [
        i
        for i, line in enumerate(lines)
        if (line.startswith("#") and heading in line)
        or (heading.startswith("|") and line == heading)
    ]
    rows: list[str] = [heading] if heading.startswith("|") else []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows or line.startswith("#"):
            break
    return rows


@pytest.mark.parametrize(
    ("heading", "section", "domain"),
    [
        ("(`LLMLoadModelConfig`)", "load", "llm"),
        ("(`EmbeddingLoadModelConfig`)", "load", "embedding"),
        ("(`LLMPredictionConfigInput`)", "inference", "llm"),
    ],
)
def test_fields_md_tables_are_the_field_table(
    heading: str, section: t.Section, domain: t.Domain
) -> None:
    expected = render(section, domain)
    assert table_lines(FIELDS_DOC, heading) == expected, (
        f"docs/fields.md {heading} is not the field table; it should read:\n" + "\n".join(expected)
    )


# --------------------------------------------------------------------------------------------
# docs/profiles.md


def profile_rows(heading: str) -> dict[str, tuple[str, str]]:
    """Field -> (its snake_case spelling as the page gives it, "type and values" cell)."""
    found: dict[str, tuple[str, str]] = {}
    for line in table_lines(PROFILES_DOC, heading)[2:]:
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        names = re.findall(r"`([^`]+)`", cells[0])
        found[names[0]] = (names[1] if len(names) > 1 else names[0], cells[1])
    return found


def _number(value: float) -> str:
    return f"{value:g}".replace("-", "\N{MINUS SIGN}")  # as the page writes it


def check_values(name: str, kind: t.Kind, cell: str) -> None:
    """The "type and allowed values" cell says what the field's kind takes."""
    if isinstance(kind, t.Num):
        assert cell.startswith(kind.kind), (name, cell)
        if kind.ge is not None and kind.le is not None:
            assert f"{_number(kind.ge)}…{_number(kind.le)}" in cell, (name, cell)
        elif kind.ge is not None:
            assert f"≥ {_number(kind.ge)}" in cell, (name, cell)
        if kind.off is not None and kind.off.mode == "omit":
            assert cell.endswith("or `false`"), (name, cell)
        if kind.off is not None and kind.off.mode == "reject":
            assert f"(`false` rejected: write {kind.off.value:g})" in cell, (name, cell)
        if kind.unit is not None:
            assert "units-durations-and-token-counts" in cell or "token count" in cell, name
    elif isinstance(kind, t.Choice):
        if cell != "same as above":
            assert re.findall(r"`([^`]+)`", cell) == [
                *kind.options,
                *(["false"] if kind.off is not None else []),
            ], (name, cell)
    elif isinstance(kind, t.Bool):
        assert cell == "`true` / `false`", (name, cell)
    elif isinstance(kind, t.Strings):
        assert cell == "list of non-empty strings", (name, cell)
    elif isinstance(kind, t.Indices):
        assert cell == "list of integers ≥ 0", (name, cell)
    elif isinstance(kind, t.Ratio):
        assert cell == "number 0…1, `max` (= 1) or `off` (= 0)", (name, cell)
    elif isinstance(kind, t.Text):
        assert cell.startswith("string"), (name, cell)
    else:
        assert isinstance(kind, t.Nested) and cell.startswith("mapping"), (name, cell)


@pytest.mark.parametrize(
    ("heading", "domain", "group"),
    [
        ("## Load fields", "llm", "load"),
        ("### `gpu`", "llm", "gpu"),
        ("## Embedding load fields", "embedding", "load"),
        ("## Inference fields", "llm", "inference"),
    ],
)
def test_profiles_md_lists_every_accepted_field_as_the_table_says(
    heading: str, domain: t.Domain, group: str
) -> None:
    section: t.Section = "inference" if group == "inference" else "load"
    accepted = t.rows(section, domain, accepted=True)
    documented = profile_rows(heading)
    expected = [row.name for row in accepted if row.group == group]
    if group == "load":
        expected.insert(0, "gpu")  # the mapping whose fields the `gpu` table lists
    assert list(documented) == expected
    for row in accepted:
        if row.name in documented:
            spelling, cell = documented[row.name]
            snake = t.snake(row.key)
            assert spelling == (row.name if snake == row.key else snake), row.name
            assert row.value is not None
            check_values(row.name, row.value, cell)


def test_profiles_md_checkbox_table_is_the_checkbox_fields() -> None:
    lines = table_lines(PROFILES_DOC, "## Checkbox fields and `false`")[2:]
    documented: dict[str, str] = {}
    for line in lines:
        names, _, handling = (cell.strip() for cell in line.split("|")[1:-1])
        for name in re.findall(r"`([^`]+)`", names):
            documented[name] = handling
    expected = {
        f"{row.section}.{row.name}": row.value.off
        for row in t.rows(accepted=True)
        if row.checkbox and isinstance(row.value, (t.Num, t.Choice)) and row.value.off
    }
    assert set(documented) == set(expected)
    for name, off in expected.items():
        if off.mode == "omit":
            assert documented[name].startswith("accepted; "), name
        else:
            assert documented[name] == f"**rejected**: `write {off.value:g} {off.hint}`", name


def test_profiles_md_lists_the_rejected_fields_and_the_synonyms() -> None:
    rejected: dict[str, list[str]] = {}
    for line in table_lines(PROFILES_DOC, "## Fields LM Studio has that SDK 1.5")[2:]:
        section, fields = (cell.strip() for cell in line.split("|")[1:-1])
        group = section.strip("`").removeprefix("load.")
        rejected.setdefault(group, []).extend(re.findall(r"`(\w+)`", fields))
    assert rejected == {group: list(reasons) for group, reasons in t.UNSUPPORTED.items()}
    synonyms: dict[str, str] = {}
    for line in table_lines(PROFILES_DOC, "| Written | Suggested |")[2:]:
        written, suggested = (cell.strip() for cell in line.split("|")[1:-1])
        for name in re.findall(r"`([^`]+)`", written):
            synonyms[name] = suggested.strip("`")
    assert synonyms == dict(t.SYNONYMS)
