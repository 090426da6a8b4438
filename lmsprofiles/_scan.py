"""Which files make up a profile tree: a listing of the directories, without reading a file.

Loading reads what :func:`scan` finds, and the cache compares what it finds with what it saw
last time, so both agree on what the tree is. This module imports only the standard library
(and :mod:`lmsprofiles._errors`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lmsprofiles._errors import Problem

__all__ = ["YAML_SUFFIXES", "Tree", "display", "scan", "user_config_file"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Tree:
    """The files of a profile directory, each list sorted.

    ``exists`` is false when the directory is missing: then nothing else was looked at.
    ``empty`` is true when it has no entries or cannot be listed (``problems`` says why).
    ``extra_globals`` are ``global.yml`` when ``global.yaml`` exists too; ``hosts`` is the
    inventory (``hosts.yaml``) and ``extra_hosts`` ``hosts.yml`` beside it; ``unexpected``
    are YAML files outside the layout.
    """

    root: Path
    exists: bool = True
    empty: bool = False
    user: Path | None = None
    global_: Path | None = None
    extra_globals: list[Path] = field(default_factory=list)
    requests: list[Path] = field(default_factory=list)
    models: list[Path] = field(default_factory=list)
    hosts: Path | None = None
    extra_hosts: list[Path] = field(default_factory=list)
    unexpected: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file that is read, the user-level global file first, the inventory last."""
        read = [self.user, self.global_]
        inventory = [self.hosts] if self.hosts is not None else []
        return [p for p in read if p is not None] + self.requests + self.models + inventory


def user_config_file() -> Path:
    """The user-level global file: ``global.yaml`` in the platform's user config dir."""
    import platformdirs

    return platformdirs.user_config_path("lmsprofiles") / "global.yaml"


def scan(root: Path, user_file: Path | None) -> Tree:
    """List ``root`` and find ``user_file`` (ignored when None or absent)."""
    tree = Tree(root)
    if not os.path.lexists(root):
        message = "no such profile directory" + _looks_like_one(root.parent)
        tree.problems.append(Problem(display(root), None, None, "", message))
        tree.exists = False
        return tree
    tree.empty = not _entries(root, tree.problems)
    if user_file is not None and os.path.lexists(user_file):
        tree.user = user_file
    tree.global_, tree.extra_globals = _one_of(root, "global")
    tree.hosts, tree.extra_hosts = _one_of(root, "hosts")
    tree.unexpected = list(_unexpected_files(root, tree.problems))
    tree.requests = _yaml_files(root / "requests", tree.problems)
    tree.models = _yaml_files(root / "models", tree.problems)
    return tree


def _looks_like_one(directory: Path) -> str:
    """A hint when ``directory`` (where the missing one was looked for) has what a profile
    directory has, as when a command runs inside the profile directory: "" otherwise."""
    found = [f"global{s}" for s in YAML_SUFFIXES if os.path.isfile(directory / f"global{s}")]
    found += [f"{d}/" for d in ("models", "requests") if _has_yaml(directory / d)]
    if not found:
        return ""
    listed = " and ".join(filter(None, [", ".join(found[:-1]), found[-1]]))
    where = display(directory)
    return f" ({where} has {listed}, as a profile directory does: is it the one to use?)"


def _has_yaml(directory: Path) -> bool:
    """Whether ``directory`` holds a YAML file (a ``models/`` of model weights does not)."""
    try:
        with os.scandir(directory) as listing:
            return any(e.name.endswith(YAML_SUFFIXES) for e in listing)
    except OSError:
        return False


def _one_of(root: Path, stem: str) -> tuple[Path | None, list[Path]]:
    """``root/<stem>.yaml`` or ``.yml`` (None: neither), and the other one if both exist."""
    found = [root / f"{stem}{s}" for s in YAML_SUFFIXES if os.path.lexists(root / f"{stem}{s}")]
    return (found[0], found[1:]) if found else (None, [])


def display(path: Path) -> str:
    """How messages name ``path``: relative to the working directory when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _entries(directory: Path, problems: list[Problem]) -> list[os.DirEntry[str]]:
    """The entries of ``directory``, sorted; none if it does not exist; a problem if it
    exists as a name but cannot be listed (no permission, a link loop, not a directory)."""
    if not os.path.lexists(directory):
        return []
    try:
        with os.scandir(directory) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problems.append(Problem(display(directory), None, None, "", f"cannot read: {reason}"))
        return []


def _is_yaml(name: str) -> bool:
    return name.endswith(YAML_SUFFIXES) and not name.startswith(".")


def _not_read(name: str, *, hidden: bool = True) -> str | None:
    """Why a name that looks like a profile file's is not read (None: it is read, or it looks
    like no profile). Editors' files stay quiet: backups (``a.yaml~``), swap files
    (``.a.yaml.swp``) and lock files (``.#a.yaml``). ``hidden``: a hidden YAML file is a
    problem too."""
    if _is_yaml(name) or not name.lower().endswith(YAML_SUFFIXES) or name.startswith(".#"):
        return None
    if name.startswith("."):
        return "hidden file, not read: profile file names do not start with '.'" if hidden else None
    stem, _, suffix = name.rpartition(".")
    return (
        "not read: profile files end in .yaml or .yml (lower case); "
        f"rename it {stem}.{suffix.lower()}"
    )


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _yaml_files(directory: Path, problems: list[Problem]) -> list[Path]:
    """Every YAML name directly in ``directory``, whatever it is: reading says what is wrong.
    A name that looks like one but is not read (``.a.yaml``, ``a.YAML``) is a problem."""
    found = []
    for entry in _entries(directory, problems):
        if _is_yaml(entry.name):
            found.append(Path(entry.path))
        elif (why := _not_read(entry.name)) is not None:
            problems.append(Problem(display(Path(entry.path)), None, None, "", why))
    return found


def _unexpected_files(root: Path, problems: list[Problem]) -> Iterator[Path]:
    """YAML files outside the layout; links to directories are not followed."""
    for entry in _entries(root, problems):
        if _is_yaml(entry.name):
            if Path(entry.name).stem not in ("global", "hosts"):
                yield Path(entry.path)
        elif (why := _not_read(entry.name, hidden=False)) is not None:
            problems.append(Problem(display(Path(entry.path)), None, None, "", why))
        elif _is_dir(entry) and not entry.name.startswith("."):
            if entry.name in ("models", "requests"):  # only their subdirectories are stray
                subdirs = [e for e in _entries(Path(entry.path), problems) if _is_dir(e)]
                tops = [Path(e.path) for e in subdirs if not _is_yaml(e.name)]
            else:
                tops = [] if entry.is_symlink() else [Path(entry.path)]
            for top in tops:
                yield from _walk_yaml(top, problems)


def _walk_yaml(top: Path, problems: list[Problem]) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else top
        reason = exc.strerror or str(exc)
        problems.append(Problem(display(where), None, None, "", f"cannot read: {reason}"))

    found = []
    for folder, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(folder) / name
            for name in files + dirs
            if _is_yaml(name) or _not_read(name, hidden=False)
        ]
    yield from sorted(found)
