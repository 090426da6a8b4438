"""A cache of loaded profile trees in the user cache dir: a second run over files that have
not changed answers without reading them again.

There is one cache file per way of naming a tree (how the directory was given, and the
working directory, since messages name files relative to it). It holds:

* what it is valid for: the lmsprofiles code and the libraries that read and validate
  profiles (each by the size, mtime and inode of its files), Python's version, every
  ``LMSPROFILES_*`` variable and the path of the user-level global file;
* for every file read: its stat (size, mtime_ns, inode, device, ctime_ns, mode), when it
  was read, and what reading it found;
* the models found valid with every request kind, and those found valid on every
  inventory host too, with the stats of the files that tell;
* the tree's answer (valid with these models, request kinds and hosts, or these problems)
  with the listing of the tree (``hosts.yaml`` included) and the stats it was found for.

An entry is used only while its file's stat is unchanged and the file was last modified
more than :data:`RACY_NS` before it was read: a file written twice within one tick of the
file system's clock can keep its stat, so a file read just after a change is read again
next time. A cache file that cannot be read, fails its checksum or was written for other
code, variables or files is ignored and written anew, atomically (a temporary file renamed
over it); one that cannot be written is left alone. The cache only saves time: the answers
are the same without it (``--no-cache``).

This module imports only the standard library (and platformdirs), so that a command whose
answer is cached never loads pydantic or ruamel.yaml.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import pickle
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._scan import Tree, scan

if TYPE_CHECKING:
    from lmsprofiles._profiles import FileKind, FileRead, ProfileSet

__all__ = ["RACY_NS", "Answer", "Store", "cache_dir"]

RACY_NS: Final = 2_000_000_000
"""A file modified less than this before it was read (ns) is read again next time."""

_MAGIC: Final = b"lmsprofiles cache 2\n"
_HEAD: Final = struct.Struct("<32sQQ")  # the index's checksum and length, the data's length
_KEEP: Final = 64  # cache files kept; the oldest beyond that are removed
_CHUNK: Final = 256
"""Files per pickle of the data: one pickle writes each path and position the files share
once, and a few hundred files keep its memo small."""
_LIBRARIES: Final = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "ruamel.yaml",
    "_ruamel_yaml",
    "platformdirs",
)
"""Libraries whose version can change an answer, found by where they are installed."""

StatKey = tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class Answer:
    """What loading a tree answered: its models, request kinds and inventory hosts, or its
    problems."""

    models: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    hosts: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise the problems as :class:`ProfileError`, if there are any."""
        if self.problems:
            raise ProfileError(self.problems)


def cache_dir() -> Path:
    """Where cache files live: ``trees`` in the platform's user cache dir."""
    import platformdirs

    return platformdirs.user_cache_path("lmsprofiles") / "trees"


class Store:
    """The cache for one way of naming a tree, read when made and written by :meth:`load`.

    ``name`` says how the tree was named (e.g. the directory as given); ``environ`` is the
    environment loading reads ``LMSPROFILES_*`` variables from; ``user_file`` the user-level
    global file (None: none is read).
    """

    def __init__(self, name: tuple[str, ...], environ: Mapping[str, str], user_file: Path | None):
        cwd = os.getcwd()
        digest = hashlib.blake2b(repr((name, cwd)).encode(), digest_size=16).hexdigest()
        self.path = cache_dir() / f"{digest}.cache"
        self.environ = dict(environ)
        self.user_file = user_file
        variables = sorted(
            (k, v) for k, v in environ.items() if k.upper().startswith("LMSPROFILES_")
        )
        self.valid_for = (_code(), tuple(variables), cwd, name, str(user_file))
        self._old = _read(self.path, self.valid_for)
        self._files: dict[str, _Entry] = {}
        self._stats: dict[str, tuple[StatKey, int] | None] = {}  # path -> stat, read at
        self._trusted: set[str] = set()
        self._checked: dict[tuple[str, bool], tuple[Any, ...]] = {}
        self._changed = False
        self._tree = Tree(Path())

    # -- the answer ---------------------------------------------------------------------------

    def answer(self) -> tuple[Path, Answer] | None:
        """The directory last loaded and its answer, if no file of it changed since."""
        old = self._old
        if old is None or old.answer is None or old.root is None:
            return None
        tree = scan(Path(old.root), self.user_file)
        stats = _stats(tree)
        if stats is None or (_listing(tree), stats) != old.signature:
            return None
        for path, stat in zip(tree.files(), stats, strict=True):
            entry = old.files.get(str(path))
            if entry is None or entry.stat != stat or not entry.trusted():
                return None
        return tree.root, old.answer

    def load(self, root: Path) -> ProfileSet:
        """Load ``root`` with this cache, and keep what was found."""
        from lmsprofiles import _profiles

        tree = self._tree = scan(root, self.user_file)
        try:
            profile_set = _profiles.load_tree(tree, self.environ, self)
        except ProfileError as exc:
            self._save(tree, Answer(problems=exc.problems))
            raise
        found = Answer(
            models=profile_set.identifiers,
            requests=tuple(profile_set.requests),
            hosts=tuple(profile_set.hosts),
        )
        self._save(tree, found)
        return profile_set

    # -- files (the protocol lmsprofiles._profiles.Store) ---------------------------------------

    def file(self, path: Path, kind: FileKind) -> FileRead | None:
        """What was read from ``path`` before, if it has not changed since."""
        key = str(path)
        read_at = time.time_ns()
        try:
            stat = _stat_key(os.stat(path))
        except OSError:
            self._stats[key] = None
            return None
        self._stats[key] = (stat, read_at)
        entry = self._old.files.get(key) if self._old else None
        if entry is None or entry.kind != kind or entry.stat != stat or not entry.trusted():
            return None
        found = self._old.payload(entry) if self._old else None
        if found is None:
            return None
        self._files[key] = _Entry(kind, stat, entry.read_at, found)
        self._trusted.add(key)
        return found

    def keep_file(self, path: Path, kind: FileKind, read: FileRead) -> None:
        """Remember what was read from ``path``, as of its stat before :meth:`file`."""
        key = str(path)
        seen = self._stats.get(key)
        if seen is None:
            return
        stat, read_at = seen
        self._files[key] = _Entry(kind, stat, read_at, read)
        self._changed = True

    def checked(self, model: Path, *, on_hosts: bool = False) -> bool:
        """Whether the model in ``model`` was found valid with every request kind
        (``on_hosts``: on every inventory host too), with these same files."""
        key = self._check_key(model, on_hosts=on_hosts)
        old = self._old.checked.get((str(model), on_hosts)) if self._old else None
        if key is None or old != key:
            return False
        self._checked[(str(model), on_hosts)] = key
        return True

    def keep_checked(self, model: Path, *, on_hosts: bool = False) -> None:
        """Remember that the model in ``model`` is valid with every request kind
        (``on_hosts``: on every inventory host too)."""
        key = self._check_key(model, fresh=True, on_hosts=on_hosts)
        if key is not None:
            self._checked[(str(model), on_hosts)] = key
            self._changed = True

    def _check_key(
        self, model: Path, *, fresh: bool = False, on_hosts: bool = False
    ) -> tuple[Any, ...] | None:
        """The stats a model's check depends on: its file, the global and request files,
        and ``hosts.yaml`` for its check on the inventory's hosts.

        None when one is unknown, or (unless ``fresh``) was read anew: a check found with
        files read anew is kept for next time, but one found before is not trusted then.
        """
        tree = self._tree
        inputs = [tree.user, tree.global_, *tree.requests, model]
        if on_hosts:
            inputs.append(tree.hosts)
        keys = [str(p) for p in inputs if p is not None]
        if not fresh and not all(k in self._trusted for k in keys):
            return None
        stats = [self._stats.get(k) for k in keys]
        if any(s is None for s in stats):
            return None
        return (tuple(keys), tuple(s[0] for s in stats if s is not None))

    # -- writing -----------------------------------------------------------------------------

    def _save(self, tree: Tree, answer: Answer) -> None:
        stats = _stats(tree)
        signature = (_listing(tree), stats) if stats is not None else None
        old = self._old
        if (
            old is not None
            and not self._changed
            and old.answer == answer
            and old.signature == signature
            and old.checked == self._checked
            and set(old.files) == set(self._files)
        ):
            return  # nothing new
        files: dict[str, Any] = {}
        index = {
            "valid_for": self.valid_for,
            "root": str(tree.root),
            "signature": signature,
            "answer": answer if signature is not None else None,
            "files": files,
            "checked": self._checked,
        }
        _write(self.path, index, self._payloads(files))

    def _payloads(self, files: dict[str, Any]) -> Iterator[bytes]:
        """The FileReads, pickled :data:`_CHUNK` files at a time, noting in ``files`` where
        each goes: the chunk's offset and length in the data, and its place in the chunk."""
        offset = 0
        entries = list(self._files.items())
        for start in range(0, len(entries), _CHUNK):
            chunk = entries[start : start + _CHUNK]
            payload = pickle.dumps([entry.read for _, entry in chunk], protocol=5)
            for i, (key, entry) in enumerate(chunk):
                files[key] = (entry.kind, entry.stat, entry.read_at, offset, len(payload), i)
            offset += len(payload)
            yield payload


@dataclass
class _Entry:
    """One file as the cache knows it: what reading it found (None: in the old cache file,
    at ``where``: the offset and length of its chunk in the data, and its place in it)."""

    kind: str
    stat: StatKey
    read_at: int
    read: FileRead | None = None
    where: tuple[int, int, int] = (0, 0, 0)

    def trusted(self) -> bool:
        """Whether the file was read well after its last change (see :data:`RACY_NS`)."""
        return self.stat[1] < self.read_at - RACY_NS


@dataclass
class _Old:
    """A cache file as read: its index, and its data (read when first needed)."""

    path: Path
    offset: int  # where the data starts
    length: int  # and its length
    root: str | None
    signature: Any
    answer: Answer | None
    files: dict[str, _Entry]
    checked: dict[tuple[str, bool], tuple[Any, ...]]
    data_digest: bytes
    _data: bytes | None = None
    _chunks: dict[tuple[int, int], list[Any]] = field(default_factory=dict)

    def _chunk(self, start: int, length: int) -> list[Any]:
        """The chunk at ``start`` in the data, unpickled; empty if the data is not what the
        index says."""
        found = self._chunks.get((start, length))
        if found is not None:
            return found
        if self._data is None:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    data = handle.read(self.length)
            except OSError:
                data = b""
            digest = hashlib.blake2b(data, digest_size=32).digest()
            self._data = data if digest == self.data_digest else b""
        found = []
        if start + length <= len(self._data):
            try:
                loaded = _Unpickler(io.BytesIO(self._data[start : start + length])).load()
            except Exception:  # a cache that does not unpickle is no cache
                loaded = None
            found = loaded if isinstance(loaded, list) else []
        self._chunks[(start, length)] = found
        return found

    def payload(self, entry: _Entry) -> FileRead | None:
        """The FileRead of ``entry``, or None if it cannot be had."""
        from lmsprofiles._profiles import FileRead

        start, length, place = entry.where
        chunk = self._chunk(start, length)
        found = chunk[place] if 0 <= place < len(chunk) else None
        return found if isinstance(found, FileRead) else None


_ALLOWED: Final = {
    ("lmsprofiles._profiles", "FileRead"),
    ("lmsprofiles._errors", "Problem"),
    ("lmsprofiles._cache", "Answer"),
    ("lmsprofiles._merge", "Append"),
    ("lmsprofiles._merge", "Replace"),
    ("lmsprofiles._merge", "Reset"),
}


class _Unpickler(pickle.Unpickler):
    """Unpickles only the classes a cache file holds."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache file")
        return super().find_class(module, name)


def _read(path: Path, valid_for: tuple[Any, ...]) -> _Old | None:
    """The cache file at ``path`` if it is whole and was written for ``valid_for``."""
    offset = len(_MAGIC) + _HEAD.size  # where the data starts; the index follows it
    try:
        with open(path, "rb") as handle:
            if handle.read(len(_MAGIC)) != _MAGIC:
                return None
            checksum, length, data_length = _HEAD.unpack(handle.read(_HEAD.size))
            handle.seek(offset + data_length)
            raw = handle.read(length)
    except (OSError, struct.error, ValueError, OverflowError):
        return None
    if len(raw) != length or hashlib.blake2b(raw, digest_size=32).digest() != checksum:
        return None
    try:
        index = _Unpickler(io.BytesIO(raw)).load()
        if index["valid_for"] != valid_for:
            return None
        files = {
            key: _Entry(kind, tuple(stat), read_at, None, (start, size, place))
            for key, (kind, stat, read_at, start, size, place) in index["files"].items()
        }
        answer = index["answer"]
        return _Old(
            path,
            offset,
            data_length,
            index["root"],
            index["signature"],
            answer if isinstance(answer, Answer) else None,
            files,
            dict(index["checked"]),
            index["data"],
        )
    except Exception:  # anything unexpected in a cache file: no cache
        return None


def _write(path: Path, index: dict[str, Any], payloads: Iterator[bytes]) -> None:
    """Write the cache file atomically; leave it alone if that cannot be done.

    The data (``payloads``, which fill in ``index["files"]``) is written first, then the
    index with the data's checksum, then the head that says where the index is.
    """
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_MAGIC + _HEAD.pack(b"", 0, 0))
            data = hashlib.blake2b(digest_size=32)
            length = 0
            for payload in payloads:
                out.write(payload)
                data.update(payload)
                length += len(payload)
            index["data"] = data.digest()
            raw = pickle.dumps(index, protocol=5)
            out.write(raw)
            out.seek(len(_MAGIC))
            out.write(_HEAD.pack(hashlib.blake2b(raw, digest_size=32).digest(), len(raw), length))
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _prune(path.parent)


def _prune(directory: Path) -> None:
    """Remove the oldest cache files beyond :data:`_KEEP`."""
    try:
        found = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(directory)]
    except OSError:
        return
    for _, old in sorted(found, reverse=True)[_KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(old)


def _stat_key(info: os.stat_result) -> StatKey:
    return (
        info.st_size,
        info.st_mtime_ns,
        info.st_ino,
        info.st_dev,
        info.st_ctime_ns,
        info.st_mode,
    )


def _stats(tree: Tree) -> tuple[StatKey, ...] | None:
    """The stat of every file the tree reads; None if one cannot be had."""
    try:
        return tuple(_stat_key(os.stat(path)) for path in tree.files())
    except OSError:
        return None


def _listing(tree: Tree) -> tuple[Any, ...]:
    """Everything the listing of ``tree`` found, as plain data."""
    return (
        str(tree.root),
        tree.exists,
        tree.empty,
        str(tree.user),
        str(tree.global_),
        tuple(map(str, tree.extra_globals)),
        tuple(map(str, tree.requests)),
        tuple(map(str, tree.models)),
        str(tree.hosts),
        tuple(map(str, tree.extra_hosts)),
        tuple(map(str, tree.unexpected)),
        tuple(tree.problems),
    )


def _code() -> tuple[Any, ...]:
    """What identifies the code that reads and validates profiles: Python's version and the
    size, mtime and inode of every file of lmsprofiles and of the libraries it reads with."""
    found: list[Any] = [sys.version, _MAGIC]
    package = Path(__file__).parent
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                found.append((name, _identity(os.path.join(folder, name))))
    for library in _LIBRARIES:
        try:
            spec = importlib.util.find_spec(library)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        found.append((library, _identity(origin) if origin else None))
    return tuple(found)


def _identity(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ino)
