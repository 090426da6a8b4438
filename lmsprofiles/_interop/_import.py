"""``lmsprofiles import``: read sources, draft profiles, check them, write them (the I/O edge).

Order of work: the options and the environment are checked, then every source is read (with
the limits of profile files) and converted (an unreadable or invalid source fails the run
before anything is written); then the drafts are checked together with the profiles already
in the target directory, in a temporary copy; only then are files written, each to a
temporary file beside it that then takes its name, so that a file is never half written and
a link in the directory is replaced rather than written through. Existing files are never
replaced without ``force``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lmsprofiles._errors import LmsProfilesError, Problem, ProfileError
from lmsprofiles._interop._draft import Draft, name_problem, render_draft
from lmsprofiles._interop._lmsload import looks_like_lms_load, parse_lms_load
from lmsprofiles._interop._modelyaml import looks_like_model_yaml, parse_model_yaml
from lmsprofiles._interop._preset import looks_like_preset, parse_preset
from lmsprofiles._interop._source import read_json, read_source

if TYPE_CHECKING:
    from lmsprofiles._yaml import Limits

__all__ = ["Drafted", "ImportOptions", "UsageError", "drafts_from_source", "run_import"]

_LIMIT_VARIABLES = ("LMSPROFILES_MAX_FILE_BYTES", "LMSPROFILES_MAX_DEPTH", "LMSPROFILES_MAX_NODES")


class UsageError(LmsProfilesError):
    """Options that do not go together with the sources given (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class ImportOptions:
    """What ``lmsprofiles import`` was asked to do.

    ``host`` and ``timeout`` are ``--host`` and ``--timeout`` (None: not given); they apply
    to ``from_host`` only.
    """

    sources: Sequence[str]
    target: Path
    name: str | None = None
    model: str | None = None
    dry_run: bool = False
    force: bool = False
    from_host: bool = False
    host: str | None = None
    timeout: float | None = None


def run_import(
    options: ImportOptions,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Import every source into ``options.target``; return 0 or raise an lmsprofiles error."""
    from lmsprofiles._env import control

    out = out or sys.stdout
    err = err or sys.stderr
    settings = control()  # a malformed LMSPROFILES_* control variable is a problem (exit 3)
    _check_name(options)
    drafts: list[Draft] = []
    problems: list[Problem] = []
    takes_model = False
    for spec in options.sources:
        try:
            made = drafts_from_source(spec, settings.limits, stdin or sys.stdin, options.model)
        except ProfileError as exc:
            problems += exc.problems
            continue
        takes_model |= made.takes_model
        problems += _named(made.drafts, options.name, made.source)
        if all(d.withheld for d in made.drafts):
            _warn_skipped(made.drafts, err)
            message = "nothing to import: none of its settings has a profile field"
            problems.append(Problem(made.source, None, None, "", message))
        drafts += made.drafts
    if problems:
        raise ProfileError(problems)
    if options.model is not None and not takes_model:
        raise UsageError("--model does not apply: no source is a preset with load settings")
    if options.from_host:
        host = _host(options.host) if options.host else settings.host
        found = _from_host(host, options.timeout or settings.timeout)
        if options.name is not None:
            if len(found) != 1:
                count = len(found)
                message = f"--name needs one profile to write; the host has {count} instances"
                raise ProfileError.single("--name", message)
            found[0].name = options.name
        drafts += found
    return _write(drafts, options, out, err)


def _write(drafts: list[Draft], options: ImportOptions, out: TextIO, err: TextIO) -> int:
    """Check the drafts against the target directory, report, and write (or print) them."""
    written = [d for d in drafts if not d.withheld]
    _check_unique(written)
    _check_target(options.target, written)
    texts = {d.path: render_draft(d) for d in written}
    _check_valid(texts, options.target)
    if not options.force and not options.dry_run:
        existing = [d.path for d in written if os.path.lexists(options.target / d.path)]
        if existing:
            names = ", ".join(str(options.target / p) for p in existing)
            raise LmsProfilesError(f"{names}: already exists; --force replaces it")
    _warn_skipped(drafts, err)
    for draft in (d for d in drafts if d.withheld):
        target = options.target / draft.path
        print(f"warning: not written: {target}: {draft.withheld}", file=err)
    err.flush()
    files = [(options.target / path, text) for path, text in texts.items()]
    if options.dry_run:
        for target, text in files:
            out.write(f"# would write {target}\n{text}\n")
        return 0
    for verb, target in _replace_all(files):
        out.write(f"{verb} {target}\n")
    return 0


def _check_name(options: ImportOptions) -> None:
    if options.name is None:
        return
    why = name_problem(options.name)
    if why is not None:
        message = f"{options.name!r} is not a plain file name: {why}"
        raise ProfileError.single("--name", message)
    if len(options.sources) + int(options.from_host) != 1:
        raise ProfileError.single("--name", "--name needs exactly one source")


def _named(drafts: list[Draft], name: str | None, source: str) -> list[Problem]:
    """Give the drafts of one source ``name`` (``--name``): one file per directory."""
    if name is None:
        return []
    if len({d.kind for d in drafts}) != len(drafts):
        message = f"--name needs one profile to write; this source makes {len(drafts)}"
        return [Problem(source, None, None, "", message)]
    for draft in drafts:
        draft.name = name
    return []


def _warn_skipped(drafts: Sequence[Draft], err: TextIO) -> None:
    for draft in drafts:
        for item in draft.skipped:
            where = f" ({item.where})" if item.where else ""
            print(f"warning: not imported: {item.key}{where}: {item.reason}", file=err)


@dataclass(frozen=True)
class Drafted:
    """What one source makes. ``source`` names it in messages; ``takes_model``: it is a
    preset with load settings, which ``--model`` applies to."""

    source: str
    drafts: list[Draft]
    takes_model: bool = False


def drafts_from_source(
    spec: str, limits: Limits, stdin: TextIO, model: str | None = None
) -> Drafted:
    """The drafts one source makes: a file, ``-`` (``stdin``) or an ``lms load`` line.

    What it is, is read from its content (a ``.json`` or ``.yaml`` name only decides how a
    source that is none of them is reported). Raises ``ProfileError``.
    """
    from lmsprofiles._yaml import parse

    source = read_source(spec, limits, stdin, looks_like_lms_load)
    text, name, label = source.text, source.name, source.label
    yaml_name = source.suffix in (".yaml", ".yml")
    if source.suffix == ".json" or (text.lstrip().startswith("{") and not yaml_name):
        data, doc = read_json(text, name, limits)
        if looks_like_preset(data):
            drafts = parse_preset(data, doc, name, label=label, model=model)
            return Drafted(name, drafts, _has_load(data))
        if doc is not None and looks_like_model_yaml(data):
            return Drafted(name, [parse_model_yaml(doc, label=label)])
    elif looks_like_lms_load(text):
        return Drafted(name, parse_lms_load(text, name, label=label))
    else:
        try:
            doc = parse(text, name, limits)
        except ProfileError:
            if yaml_name:
                raise
        else:
            if looks_like_model_yaml(doc.data) or yaml_name:
                return Drafted(name, [parse_model_yaml(doc, label=label)])
    raise ProfileError.single(
        name,
        "cannot tell what this is: expected an LM Studio preset (*.preset.json), a "
        "model.yaml or `lms load` command lines",
    )


def _has_load(data: Any) -> bool:
    load = data.get("load")
    return isinstance(load, dict) and bool(load.get("fields"))


def _host(text: str) -> str:
    from lmsprofiles._reconcile._host import parse_host

    try:
        return parse_host(text)
    except ValueError as exc:
        raise ProfileError.single("--host", str(exc)) from None


def _from_host(host: str | None, timeout: float | None) -> list[Draft]:
    from lmsprofiles._interop._host import drafts_from_instances
    from lmsprofiles._reconcile._command import _quiet_sdk_logs
    from lmsprofiles._reconcile._loop import HostClient
    from lmsprofiles._reconcile._timeout import DEFAULT_TIMEOUT

    _quiet_sdk_logs()
    with HostClient(host, timeout=timeout or DEFAULT_TIMEOUT) as client:
        instances = client.observe()
        drafts = drafts_from_instances(instances, client.host)
    if not drafts:
        raise LmsProfilesError(f"no instances are loaded on {client.host}; nothing to import")
    return drafts


def _check_unique(drafts: Sequence[Draft]) -> None:
    seen: dict[str, str] = {}
    for draft in drafts:
        why = name_problem(draft.name)  # names from sources are made to pass; never write one
        if why is not None:  # that does not
            raise ProfileError.single(draft.source, f"{draft.name!r} {why}")
        if draft.path in seen:
            raise ProfileError.single(
                draft.path,
                f"both {seen[draft.path]} and {draft.source} would be written here; "
                "import them one at a time with --name",
            )
        seen[draft.path] = draft.source


def _check_target(target: Path, drafts: Sequence[Draft]) -> None:
    """``--to`` and the directories below it must be directories, or not exist yet."""
    for directory in sorted({target, *((target / d.path).parent for d in drafts)}):
        existing = directory
        while not os.path.lexists(existing) and existing != existing.parent:
            existing = existing.parent
        if os.path.lexists(existing) and not existing.is_dir():
            raise ProfileError.single("--to", f"{existing} is not a directory")


def _check_valid(texts: Mapping[str, str], target: Path) -> None:
    """Load the target's profiles with the files to write (their texts by relative path)
    added, in a temporary copy.

    Environment variables and the user-level file are left out: they belong to where the
    profiles run, not to the files (the limits on reading files are kept). A target that is
    already invalid, or cannot be read, is left out too, and the drafts are checked on their
    own.
    """
    from lmsprofiles._profiles import load

    env = {name: os.environ[name] for name in _LIMIT_VARIABLES if name in os.environ}
    with tempfile.TemporaryDirectory(prefix="lmsprofiles-import-") as temp:
        base = Path(temp) / "profiles"
        if target.is_dir() and _copy(target, base):
            try:
                load(base, env=env, user_config=None)
            except ProfileError:
                base = Path(temp) / "drafts"
        else:
            base = Path(temp) / "drafts"
        base.mkdir(exist_ok=True)
        for path, text in texts.items():
            file = base / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")
        try:
            load(base, env=env, user_config=None)
        except ProfileError as exc:
            raise ProfileError(_relocated(p, base, target) for p in exc.problems) from None


def _copy(target: Path, base: Path) -> bool:
    """Copy the profile files of ``target`` to ``base``, whose directories are then
    writable whatever the target's are; False if the target cannot be read."""
    try:
        shutil.copytree(
            target, base, ignore=shutil.ignore_patterns(".*"), copy_function=shutil.copyfile
        )
    except (OSError, shutil.Error):
        return False
    for folder, _, _ in os.walk(base):
        os.chmod(folder, 0o700)
    return True


def _relocated(problem: Problem, base: Path, target: Path) -> Problem:
    source = problem.source
    for prefix in (str(base), str(base.resolve())):
        if source.startswith(prefix):
            source = str(target) + source[len(prefix) :]
    return Problem(source, problem.line, problem.column, problem.path, problem.message)


def _replace_all(texts: Sequence[tuple[Path, str]]) -> Iterator[tuple[str, Path]]:
    """Write every file: first each to a temporary file beside it, then each temporary file
    takes its file's name. Yields ``(verb, path)`` per file written.

    A file that cannot be written (no permission, no space) is an :class:`LmsProfilesError`
    naming it, raised before any file has its new content; the temporary files and the
    directories made for them are removed again.
    """
    made: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in texts:
            try:
                made += _make_parents(target.parent)
                staged.append((_temporary(target, text), target))
            except OSError as exc:
                raise LmsProfilesError(f"cannot write {target}: {_reason(exc)}") from None
    except LmsProfilesError:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    for temporary, target in staged:
        verb = "replaced" if os.path.lexists(target) else "wrote"
        try:
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise LmsProfilesError(f"cannot write {target}: {_reason(exc)}") from None
        yield verb, target


def _make_parents(directory: Path) -> list[Path]:
    """Make ``directory`` and its missing parents; the ones made, outermost first."""
    missing: list[Path] = []
    while not os.path.lexists(directory) and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for folder in reversed(missing):
        folder.mkdir()
    return list(reversed(missing))


def _temporary(target: Path, text: str) -> Path:
    """``text`` in a new hidden file beside ``target`` (profile directories skip it)."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
