"""``lmsprofiles import``: read sources, draft profiles, check them, write them (the I/O edge).

Order of work: every source is read and converted first (an unreadable or invalid source
fails the run before anything is written); then the drafts are checked together with the
profiles already in the target directory, in a temporary copy; only then are files written.
Existing files are never replaced without ``force``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from lmsprofiles._errors import LmsProfilesError, Problem, ProfileError
from lmsprofiles._interop._draft import Draft, render_draft
from lmsprofiles._interop._lmsload import looks_like_lms_load, parse_lms_load
from lmsprofiles._interop._modelyaml import looks_like_model_yaml, parse_model_yaml
from lmsprofiles._interop._preset import looks_like_preset, parse_preset

__all__ = ["ImportOptions", "drafts_from_source", "run_import"]


@dataclass(frozen=True)
class ImportOptions:
    """What ``lmsprofiles import`` was asked to do."""

    sources: Sequence[str]
    target: Path
    name: str | None = None
    model: str | None = None
    dry_run: bool = False
    force: bool = False
    from_host: bool = False
    host: str | None = None


def run_import(options: ImportOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Import every source into ``options.target``; return 0 or raise an lmsprofiles error."""
    out = out or sys.stdout
    err = err or sys.stderr
    single = len(options.sources) + int(options.from_host) == 1
    if options.name is not None and not single:
        raise ProfileError.single("--name", "--name needs exactly one source")
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for spec in options.sources:
        try:
            drafts += drafts_from_source(spec, name=options.name, model=options.model)
        except ProfileError as exc:
            problems += exc.problems
    if problems:
        raise ProfileError(problems)
    if options.from_host:
        drafts += _from_host(options.host, options.name)
    _check_unique(drafts)
    _check_valid(drafts, options.target)
    if not options.force and not options.dry_run:
        existing = [d.path for d in drafts if (options.target / d.path).exists()]
        if existing:
            names = ", ".join(str(options.target / p) for p in existing)
            raise LmsProfilesError(f"{names}: already exists; --force replaces it")
    for draft in drafts:
        for item in draft.skipped:
            where = f" ({item.where})" if item.where else ""
            print(f"warning: not imported: {item.key}{where}: {item.reason}", file=err)
    err.flush()
    for draft in drafts:
        text = render_draft(draft)
        target = options.target / draft.path
        if options.dry_run:
            out.write(f"# would write {target}\n{text}\n")
            continue
        verb = "replaced" if target.exists() else "wrote"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        out.write(f"{verb} {target}\n")
    return 0


def drafts_from_source(
    spec: str, *, name: str | None = None, model: str | None = None
) -> list[Draft]:
    """The drafts one source makes: a file, ``-`` (standard input) or an ``lms load`` line."""
    text, source, label = _read(spec)
    suffix = Path(spec).suffix.lower() if source != "<command line>" else ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if looks_like_preset(data) or (suffix == ".json" and data is None):
        return parse_preset(text, source, label=label, name=name, model=model)
    if looks_like_lms_load(text):
        return parse_lms_load(text, source, label=label, name=name)
    if looks_like_model_yaml(data) or suffix in (".yaml", ".yml") or _yaml_model(text, source):
        return [parse_model_yaml(text, source, label=label, name=name)]
    raise ProfileError.single(
        source,
        "cannot tell what this is: expected an LM Studio preset (*.preset.json), a "
        "model.yaml or `lms load` command lines",
    )


def _yaml_model(text: str, source: str) -> bool:
    from lmsprofiles._yaml import parse

    try:
        return looks_like_model_yaml(parse(text, source).data)
    except ProfileError:
        return False


def _read(spec: str) -> tuple[str, str, str]:
    """``(text, source for messages, label for file comments)``."""
    if spec == "-":
        return sys.stdin.read(), "<stdin>", "standard input"
    path = Path(spec)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8"), spec, path.name
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError.single(spec, f"cannot read: {exc}") from None
    if looks_like_lms_load(spec):
        return spec, "<command line>", "the command line"
    raise ProfileError.single(spec, "no such file (and not an `lms load` command line)")


def _from_host(host: str | None, name: str | None) -> list[Draft]:
    from lmsprofiles._env import control
    from lmsprofiles._interop._host import drafts_from_instances
    from lmsprofiles._reconcile._client import LMStudioClient

    with LMStudioClient(host or control().host) as client:
        instances = client.observe()
        drafts = drafts_from_instances(instances, client.host)
    if not drafts:
        raise LmsProfilesError(f"no instances are loaded on {client.host}; nothing to import")
    if name is not None:
        if len(drafts) != 1:
            raise ProfileError.single(
                "--name", f"--name needs one profile to write; the host has {len(drafts)} instances"
            )
        drafts[0].name = name
    return drafts


def _check_unique(drafts: Sequence[Draft]) -> None:
    seen: dict[str, str] = {}
    for draft in drafts:
        if draft.path in seen:
            raise ProfileError.single(
                draft.path,
                f"both {seen[draft.path]} and {draft.source} would be written here; "
                "import them one at a time with --name",
            )
        seen[draft.path] = draft.source


def _check_valid(drafts: Sequence[Draft], target: Path) -> None:
    """Load the target's profiles with the drafts added, in a temporary copy.

    Environment variables and the user-level file are left out: they belong to where the
    profiles run, not to the files. A target that is already invalid is left out too, and the
    drafts are checked on their own.
    """
    from lmsprofiles._profiles import load

    with tempfile.TemporaryDirectory(prefix="lmsprofiles-import-") as temp:
        base = Path(temp) / "profiles"
        if target.is_dir():
            shutil.copytree(target, base, ignore=shutil.ignore_patterns(".*"))
            try:
                load(base, env={}, user_config=None)
            except ProfileError:
                shutil.rmtree(base)
        base.mkdir(exist_ok=True)
        for draft in drafts:
            file = base / draft.path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(render_draft(draft), encoding="utf-8")
        try:
            load(base, env={}, user_config=None)
        except ProfileError as exc:
            raise ProfileError(_relocated(p, base, target) for p in exc.problems) from None


def _relocated(problem: Problem, base: Path, target: Path) -> Problem:
    source = problem.source
    for prefix in (str(base), str(base.resolve())):
        if source.startswith(prefix):
            source = str(target) + source[len(prefix) :]
    return Problem(source, problem.line, problem.column, problem.path, problem.message)
