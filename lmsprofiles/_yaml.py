"""The only module that touches ruamel.yaml.

:func:`read` and :func:`parse` turn YAML into plain Python data (dicts, lists, str, int, float,
bool, None) in which the merge tags ``!append``, ``!replace`` and ``!reset`` have become the
markers of :mod:`lmsprofiles._merge`, plus a map from each key path to its 1-based line and
column.

The data is built here from the parser's *events*, not by ruamel's constructor, so that every
file gets an answer in bounded time and memory whatever its bytes: the file size is checked
before parsing, and nesting depth and the number of values (an alias counts as every value it
stands for) are checked event by event, so reading stops where a limit is passed. An alias
shares the value of its anchor instead of copying it. Any parser that produces YAML events can
feed :class:`_Builder`.

Two parsers feed it. ruamel.yaml's C parser (libyaml, from ruamel.yaml.clib) reads every file
first, when it is installed; its answer is taken only for a file it reads without a single
problem. Anything else (a syntax error, a limit, a bad value, a character the two parsers may
read differently) is read again by ruamel.yaml's pure-Python parser, which is the reference:
every message and position comes from it, so both paths give the same answers.
"""

from __future__ import annotations

import importlib
import math
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, BinaryIO, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._merge import RESET, Append, Path, Replace, Reset

__all__ = [
    "C_PARSER",
    "DEFAULT_LIMITS",
    "OUT_OF_RANGE",
    "Document",
    "Limits",
    "describe",
    "dotted",
    "fits_64_bits",
    "parse",
    "read",
]

C_PARSER: Any
try:
    C_PARSER = importlib.import_module("_ruamel_yaml").CParser  # from ruamel.yaml.clib
except ImportError:  # pragma: no cover - without ruamel.yaml.clib, the pure-Python parser
    C_PARSER = None
"""ruamel.yaml.clib's C parser, or None when it is not installed (tests set it to None)."""

_SEEN_DIFFERENTLY: Final = frozenset("\t\x85\u2028\u2029\ufeff")
"""Characters libyaml (YAML 1.1) and ruamel's pure-Python parser read differently: a tab
where a token may start (libyaml takes ``a:<TAB>b``), NEL, LS and PS (line breaks to one of
them only), a BOM after the start. A file with any of them is read by the pure-Python parser
alone."""

TAGS = ("!append", "!replace", "!reset")
_CORE = "tag:yaml.org,2002:"
_INT64 = 2**63
OUT_OF_RANGE: Final = "integer out of range (beyond 64 bits)"
"""The problem of an integer a profile cannot hold, wherever it is written."""


def fits_64_bits(value: int) -> bool:
    """Whether ``value`` is a signed 64-bit integer, the largest LM Studio takes."""
    return -_INT64 <= value < _INT64


@dataclass(frozen=True)
class Limits:
    """Bounds on one profile file, far above any real profile.

    ``max_file_bytes``: size of the file; ``max_depth``: nesting of mappings and lists (the
    file's own mapping is level 1); ``max_nodes``: values in the document, keys included,
    where an alias counts as every value it stands for.
    """

    max_file_bytes: int = 256 * 1024
    max_depth: int = 64
    max_nodes: int = 20_000


DEFAULT_LIMITS: Final = Limits()


@dataclass
class Document:
    """One parsed YAML file.

    ``values[path]`` is where the value at ``path`` starts and ``keys[path]`` where its key
    starts (list items have no key). Both are 1-based ``(line, column)``. Values reached
    through an alias have the position of the alias.

    ``problems`` are the values that could not be read (read with ``every_problem``), each at
    its position; ``unread`` holds their paths, whose value in ``data`` is None. A key that
    could not be read is left out, with its value.
    """

    source: str
    data: dict[str, Any]
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unread: set[Path] = field(default_factory=set)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of the key (or value) at ``path``, else of its nearest ancestor's value
        (inside an alias: the alias)."""
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return (1, 1)


# ------------------------------------------------------------------------------------------
# Files and bytes


def read(
    path: FsPath, source: str, limits: Limits = DEFAULT_LIMITS, *, every_problem: bool = False
) -> Document:
    """Read and parse a file; ``source`` is how messages name it.

    Anything that cannot be read (a dangling link, a link loop, a directory, a device, no
    permission), bytes that are not UTF-8 and a file past ``limits.max_file_bytes`` are
    problems; nothing is skipped. ``every_problem``: as :func:`parse`.
    """
    data = _read_bytes(path, source, limits)
    return parse(_decode(data, source), source, limits, every_problem=every_problem)


def _cannot_read(source: str, reason: str) -> ProfileError:
    return ProfileError([Problem(source, None, None, "", f"cannot read: {reason}")])


def _read_bytes(path: FsPath, source: str, limits: Limits) -> bytes:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise _cannot_read(source, "is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise _cannot_read(source, "not a regular file")
        with open(path, "rb") as handle:
            data = _read_at_most(handle, limits.max_file_bytes + 1)
    except OSError as exc:
        raise _cannot_read(source, exc.strerror or str(exc)) from None
    if len(data) > limits.max_file_bytes:
        line, column = _byte_position(data, limits.max_file_bytes)
        message = f"file is larger than {limits.max_file_bytes} bytes (LMSPROFILES_MAX_FILE_BYTES)"
        raise ProfileError([Problem(source, line, column, "", message)])
    return data


_CHUNK: Final = 1 << 20


def _read_at_most(handle: BinaryIO, count: int) -> bytes:
    """Up to ``count`` bytes of ``handle``, asked for a megabyte at a time: a limit far above
    any file (``LMSPROFILES_MAX_FILE_BYTES=1000000000000000``) is no buffer of that size."""
    chunks: list[bytes] = []
    while count > 0:
        asked = min(count, _CHUNK)
        chunk = handle.read(asked)
        chunks.append(chunk)
        count -= len(chunk)
        if len(chunk) < asked:  # a buffered read returns less only at the end of the file
            break
    return b"".join(chunks)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _decode(data: bytes, source: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        message = "UTF-16 text; save the file as UTF-8"
        raise ProfileError([Problem(source, 1, 1, "", message)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        byte = data[exc.start]
        message = f"not UTF-8 text ({exc.reason}: byte 0x{byte:02x})"
        raise ProfileError([Problem(source, line, column, "", message)]) from None
    return text.removeprefix("\ufeff")


# ------------------------------------------------------------------------------------------
# Parsing


def parse(
    text: str, source: str, limits: Limits = DEFAULT_LIMITS, *, every_problem: bool = False
) -> Document:
    """Parse one YAML document that must be a mapping (an empty file is an empty mapping).

    Raises :class:`ProfileError` for what leaves no mapping to read: a syntax error, a limit
    passed, a document that is not a mapping. A value that cannot be read (an unsupported or
    unknown tag, an integer past 64 bits, a misplaced merge tag, a duplicate or non-string
    key, a bad merge key, an undefined alias) raises too, with every such problem, unless
    ``every_problem``: then the rest of the file is read and they are ``doc.problems``.
    """
    if len(text) > limits.max_file_bytes:
        message = f"file is larger than {limits.max_file_bytes} bytes (LMSPROFILES_MAX_FILE_BYTES)"
        raise ProfileError([Problem(source, None, None, "", message)])
    if C_PARSER is not None and _SEEN_DIFFERENTLY.isdisjoint(text):
        doc = _parse_fast(C_PARSER, text, source, limits)
        if doc is not None:
            return doc
    return _parse_reference(text, source, limits, every_problem)


def _parse_fast(parser: Any, text: str, source: str, limits: Limits) -> Document | None:
    """The document as read by the C parser ``parser``; None if anything was wrong with it."""
    try:
        common = _build_common(iter(parser(text).get_event, None), limits)
    except (YAMLError, ValueError):  # read again, and reported, by the reference parser
        return None
    if common is not None:
        root, values, keys = common
        return Document(source, root, values, keys)
    doc = Document(source, {})
    builder = _Builder(doc, limits)
    try:
        root = builder.build(iter(parser(text).get_event, None))
    except (YAMLError, _Stop, ValueError):  # read again, and reported, by the reference parser
        return None
    if builder.problems or not isinstance(root, dict | None):
        return None
    if root is not None:
        doc.data = root
    return doc


def _parse_reference(text: str, source: str, limits: Limits, every_problem: bool) -> Document:
    """The document as read by ruamel.yaml's pure-Python parser, with every problem."""
    doc = Document(source, {})
    builder = _Builder(doc, limits)
    try:
        root = builder.build(YAML(typ="safe", pure=True).parse(text))
    except _Stop as stop:
        raise ProfileError([stop.problem]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ProfileError([Problem(source, line, column, "", _yaml_message(exc))]) from None
    except YAMLError as exc:
        position = getattr(exc, "position", None)
        line, column = _text_position(text, position) if isinstance(position, int) else (1, 1)
        reason = str(exc).split("\n")[0]
        raise ProfileError([Problem(source, line, column, "", f"invalid YAML: {reason}")]) from None
    if root is not None and not isinstance(root, dict):
        got = "a merge tag" if isinstance(root, (Append, Replace, Reset)) else describe(root)
        raise ProfileError([Problem(source, 1, 1, "", f"expected a mapping of keys, got {got}")])
    if builder.problems and (not every_problem or () in builder.unread):
        raise ProfileError(builder.problems)
    if root is not None:
        doc.data = root
    doc.problems = builder.problems
    doc.unread = builder.unread
    return doc


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    text = f"{context}: {problem}" if context and problem else problem or context
    return f"invalid YAML: {text}"


_NO_KEY: Final = object()
_MERGE_TAGS: Final = frozenset(TAGS)

Positions = dict[Path, tuple[int, int]]


def _build_common(
    events: Iterable[Any], limits: Limits
) -> tuple[dict[str, Any], Positions, Positions] | None:
    """What :class:`_Builder` builds from ``events``, for the common case, quickly: one YAML 1.2
    document that is a mapping, without anchors, aliases, merge keys or tags other than the
    merge tags where they belong, every key a new string, within ``limits``. The root
    mapping, the positions of the values and those of the keys; None for anything else
    (:class:`_Builder` reads that)."""
    common = _Common(limits)
    scalar, start, end = common.scalar, common.start, common.end
    documents = 0
    for event in events:
        kind = type(event)
        if kind is ScalarEvent:
            done = scalar(event)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            done = start(event, {} if kind is MappingStartEvent else [])
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            done = end()
        elif kind is DocumentStartEvent:
            documents += 1
            done = documents == 1 and event.version is None
        elif kind is StreamEndEvent:
            break
        else:
            done = kind is not AliasEvent
        if not done:
            return None
    root = common.root
    if root is None:
        return {}, common.values, common.keys
    return (root, common.values, common.keys) if type(root) is dict else None


class _Common:
    """The state of :func:`_build_common`: each method takes one event and says whether it
    is of the common case.

    A frame of the stack is ``[the mapping or list, its path, its tag, its mark, the key
    waiting for its value (_NO_KEY: none), that key's path]``.
    """

    __slots__ = ("count", "keys", "limits", "root", "stack", "values")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.values: Positions = {}
        self.keys: Positions = {}
        self.stack: list[list[Any]] = []
        self.root: Any = None
        self.count = 0

    def scalar(self, event: Any) -> bool:
        self.count += 1
        stack = self.stack
        if event.anchor is not None or not stack or self.count > self.limits.max_nodes:
            return False
        tag = event.tag
        if event.style:  # quoted or a block scalar: the text itself
            value: Any = event.value
        else:
            value = _PLAIN_VALUES.get(event.value, _MISS)
            if value is _MISS:
                value = _plain_value(event.value)
            if value is _MERGE_KEY or type(value) is _Failed:
                return False
        if tag is not None:
            if tag == "!replace":
                value = Replace(value)
            elif tag == "!reset" and event.value == "" and not event.style:
                value = RESET
            else:
                return False
        mark = event.start_mark
        frame = stack[-1]
        container = frame[0]
        if type(container) is list:
            if tag is not None:
                return False
            self.values[(*frame[1], len(container))] = (mark.line + 1, mark.column + 1)
            container.append(value)
        elif frame[4] is _NO_KEY:
            if tag is not None or type(value) is not str or value in container:
                return False
            frame[4] = value
            frame[5] = path = (*frame[1], value)
            self.keys[path] = (mark.line + 1, mark.column + 1)
        else:
            container[frame[4]] = value
            self.values[frame[5]] = (mark.line + 1, mark.column + 1)
            frame[4] = _NO_KEY
        return True

    def start(self, event: Any, container: dict[str, Any] | list[Any]) -> bool:
        self.count += 1
        tag = event.tag
        stack = self.stack
        if event.anchor is not None or self.count > self.limits.max_nodes:
            return False
        if len(stack) >= self.limits.max_depth or (tag is not None and tag not in _MERGE_TAGS):
            return False
        if not stack:
            path: Path = ()
            if tag is not None:
                return False
        elif type(stack[-1][0]) is list:
            path = (*stack[-1][1], len(stack[-1][0]))
            if tag is not None:
                return False
        elif stack[-1][4] is _NO_KEY:
            return False  # a mapping or list as a key
        else:
            path = stack[-1][5]
        mark = event.start_mark
        stack.append([container, path, tag, (mark.line + 1, mark.column + 1), _NO_KEY, None])
        return True

    def end(self) -> bool:
        stack = self.stack
        value, _, tag, mark, _, _ = stack.pop()
        if tag is not None:
            if tag == "!replace":
                value = Replace(value)
            elif tag == "!append" and type(value) is list:
                value = Append(tuple(value))
            elif tag == "!reset" and not value:
                value = RESET
            else:
                return False
        if not stack:
            self.root = value
            return True
        parent = stack[-1]
        container = parent[0]
        if type(container) is list:
            self.values[(*parent[1], len(container))] = mark
            container.append(value)
        else:
            container[parent[4]] = value
            self.values[parent[5]] = mark
            parent[4] = _NO_KEY
        return True


def _plain_value(text: str) -> Any:
    """The value of an untagged plain scalar in YAML 1.2 (:class:`_Failed` if it cannot be
    read, :data:`_MERGE_KEY` for ``<<``), remembered in :data:`_PLAIN_VALUES`."""
    try:
        found = _PLAIN_READER._typed(None, text, (True, False), True)
    except _Invalid as exc:
        found = _Failed(str(exc))
    if len(_PLAIN_VALUES) >= _RESOLVED_SIZE:
        _PLAIN_VALUES.clear()
    _PLAIN_VALUES[text] = found
    return found


class _Stop(Exception):
    """A problem after which the rest of the file is not read (a limit)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Invalid(ValueError):
    """A scalar that cannot be read as its tag says; the message says why."""


@dataclass(eq=False, slots=True)
class _Frame:
    """A mapping or sequence being built."""

    path: Path
    mark: tuple[int, int]
    tag: str | None
    anchor: str | None
    start: int  # the value count before this node
    items: list[Any] = field(default_factory=list)
    pairs: dict[str, Any] = field(default_factory=dict)
    is_map: bool = False
    key: Any = None  # for a mapping: the key waiting for its value
    key_mark: tuple[int, int] = (1, 1)
    key_path: Path = ()  # the path of the waiting key
    has_key: bool = False
    skip: bool = False  # the waiting key is invalid: drop its value
    merges: list[tuple[Any, tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    height: int = 1  # levels of nesting in this node, itself included


_UNKNOWN = "unknown tag {tag}; use " + ", ".join(TAGS)
_UNSUPPORTED = {
    "set": "!!set is not supported: write a list, e.g. [a, b]",
    "binary": "!!binary is not supported: profiles hold text",
    "timestamp": "!!timestamp is not supported: write the date as a string",
    "pairs": "!!pairs is not supported: write a mapping",
}


class _Builder:
    """Plain data from YAML events, with positions, merge tags and every limit checked."""

    def __init__(self, doc: Document, limits: Limits) -> None:
        self.doc = doc
        self.limits = limits
        self.problems: list[Problem] = []
        self.count = 0
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int, bool]] = {}  # value, values, height, unread
        self.unread: set[Path] = set()
        self.resolver = VersionedResolver(version=(1, 2))
        self.version: Any = (1, 2)
        self.root: Any = None

    # -- driving --------------------------------------------------------------------------

    def build(self, events: Iterable[Any]) -> Any:
        documents = 0
        scalar, start, end, plain = self._scalar, self._start, self._end, self._plain
        for event in events:
            kind = type(event)
            if kind is ScalarEvent:
                if not plain(event):
                    scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                start(event)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                end()
            elif kind is AliasEvent:
                self._alias(event)
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:  # the rest of the file is not read
                    self._problem(_mark(event), (), "expected a single document in the file")
                    break
                self.resolver = VersionedResolver(version=event.version or (1, 2))
                self.version = self.resolver.processing_version
            elif kind is StreamEndEvent:
                break
        return self.root

    def _stop(self, event: Event, path: str, message: str) -> _Stop:
        line, column = _mark(event)
        return _Stop(Problem(self.doc.source, line, column, path, message))

    def _problem(self, mark: tuple[int, int], path: Path, message: str) -> None:
        self.problems.append(Problem(self.doc.source, mark[0], mark[1], dotted(path), message))

    def _child_path(self) -> Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_map:
            return (*top.path, len(top.items))
        if top.has_key and isinstance(top.key, str):
            return (*top.path, top.key)
        return top.path

    def _count(self, event: Event, added: int, alias: str | None = None) -> None:
        self.count += added
        if self.count > self.limits.max_nodes:
            limit = f"more than {self.limits.max_nodes} values in one document"
            if alias is not None:
                message = f"alias *{alias} stands for {added} values: {limit}"
            else:
                message = limit
            path = dotted(self._child_path())
            raise self._stop(event, path, f"{message} (LMSPROFILES_MAX_NODES)")

    def _check_depth(self, event: Event, height: int) -> None:
        if len(self.stack) + height > self.limits.max_depth:
            message = f"nesting deeper than {self.limits.max_depth} levels (LMSPROFILES_MAX_DEPTH)"
            raise self._stop(event, dotted(self._child_path()), message)

    # -- events ---------------------------------------------------------------------------

    def _start(self, event: CollectionStartEvent) -> None:
        self._check_depth(event, 1)
        start = self.count
        self._count(event, 1)
        frame = _Frame(
            path=self._child_path(),
            mark=_mark(event),
            tag=event.tag,
            anchor=event.anchor,
            start=start,
            is_map=isinstance(event, MappingStartEvent),
        )
        self.stack.append(frame)

    def _end(self) -> None:
        frame = self.stack.pop()
        value: Any
        value = self._finish_map(frame) if frame.is_map else frame.items
        size = self.count - frame.start
        try:
            value = self._apply_collection_tag(frame, value)
        except _Invalid as exc:
            self._problem(frame.mark, frame.path, str(exc))
            self._place(None, frame.mark, frame.anchor, size, frame.height, unread=True)
            return
        self._place(value, frame.mark, frame.anchor, size, frame.height)

    def _plain(self, event: ScalarEvent) -> bool:
        """The common case of :meth:`_scalar`, done quickly: an untagged scalar without an
        anchor that resolves as before, a new string key or a value for one, or a list
        item. False (nothing done) for anything else."""
        stack = self.stack
        if event.tag is not None or event.anchor is not None or not stack:
            return False
        if self.count >= self.limits.max_nodes:
            return False
        value = _RESOLVED.get((self.version, event.value, event.implicit, not event.style), _MISS)
        if value is _MISS or value is _MERGE_KEY or type(value) is _Failed:
            return False
        top = stack[-1]
        start_mark = event.start_mark
        mark = (start_mark.line + 1, start_mark.column + 1)
        if not top.is_map:
            self.doc.values[(*top.path, len(top.items))] = mark
            top.items.append(value)
        elif top.has_key:
            key = top.key
            if key is _MERGE_KEY:
                return False
            top.has_key = False
            if not top.skip:
                top.pairs[key] = value
                self.doc.values[top.key_path] = mark
        else:
            if type(value) is not str or value in top.pairs:
                return False
            top.key, top.has_key, top.skip, top.key_mark = value, True, False, mark
            top.key_path = path = (*top.path, value)
            self.doc.keys[path] = mark
        self.count += 1
        return True

    def _scalar(self, event: ScalarEvent) -> None:
        start_mark = event.start_mark
        mark = (start_mark.line + 1, start_mark.column + 1)
        if self.count >= self.limits.max_nodes:
            self._count(event, 1)
        self.count += 1
        tag = event.tag
        plain = not event.style  # None from the pure-Python parser, "" from the C one
        value: Any
        try:
            if tag is None:
                value = self._implicit(event.value, event.implicit, plain)
            elif tag in TAGS:
                value = self._merge_scalar(tag, event.value, plain)
            else:
                value = self._typed(tag, event.value, event.implicit, plain)
        except _Invalid as exc:
            self._problem(mark, self._child_path(), str(exc))
            self._place(None, mark, event.anchor, 1, 0, unread=True)
            return
        self._place(value, mark, event.anchor, 1, 0)

    def _alias(self, event: AliasEvent) -> None:
        name = str(event.anchor)
        if name not in self.anchors:
            self._problem(_mark(event), self._child_path(), f"found undefined alias {name!r}")
            self._place(None, _mark(event), None, 0, 0, unread=True)
            return
        value, size, height, unread = self.anchors[name]
        self._check_depth(event, height)
        self._count(event, size, alias=name)
        self._place(value, _mark(event), None, size, height, unread=unread)

    # -- values ---------------------------------------------------------------------------

    def _implicit(self, text: str, implicit: tuple[bool, bool] | None, plain: bool) -> Any:
        """An untagged scalar's value; answers are remembered (most scalars repeat)."""
        key = (self.version, text, implicit, plain)
        found = _RESOLVED.get(key, _MISS)
        if found is _MISS:
            try:
                found = self._typed(None, text, implicit, plain)
            except _Invalid as exc:
                found = _Failed(str(exc))
            if len(_RESOLVED) >= _RESOLVED_SIZE:
                _RESOLVED.clear()
            _RESOLVED[key] = found
        if type(found) is _Failed:
            raise _Invalid(found.message)
        return found

    def _typed(
        self, tag: str | None, text: str, implicit: tuple[bool, bool] | None, plain: bool
    ) -> Any:
        if tag is None or tag == "!":
            flags = implicit if implicit is not None and tag is None else (False, True)
            tag = str(self.resolver.resolve(ScalarNode, text, flags))
            if tag == _CORE + "merge" and plain:
                return _MERGE_KEY
            if tag in (_CORE + "timestamp", _CORE + "merge") or tag is None:
                tag = _CORE + "str"  # YAML 1.2 has no timestamps: the text as written
        elif not tag.startswith(_CORE):
            raise _Invalid(_UNKNOWN.format(tag=_shown_tag(tag)))
        return _scalar_value(tag, text, self.version)

    def _merge_scalar(self, tag: str, text: str, plain: bool) -> Any:
        implicit = (True, False) if plain else (False, True)
        self._check_merge_tag_place(tag)
        if tag == "!reset":
            if text != "" or not plain:
                raise _Invalid("!reset takes no value")
            return RESET
        if tag == "!append":
            raise _Invalid("!append needs a list, e.g. !append [x]")
        return Replace(self._typed(None, text, implicit, plain))

    def _check_merge_tag_place(self, tag: str) -> None:
        """:class:`_Invalid` unless a merge tag stands on a mapping value."""
        top = self.stack[-1] if self.stack else None
        if top is None:
            place = "the whole file"
        elif not top.is_map:
            place = "list items"
        elif not top.has_key:
            place = f"keys ({tag})"
        else:
            return
        raise _Invalid(f"merge tags apply to mapping values, not {place}")

    def _apply_collection_tag(self, frame: _Frame, value: Any) -> Any:
        """The value of a mapping or list as its tag says; :class:`_Invalid` says why not."""
        tag = frame.tag
        if tag is None or tag == "!":
            return value
        if tag in TAGS:
            self._check_merge_tag_place(tag)
            if tag == "!reset":
                if value:
                    raise _Invalid("!reset takes no value")
                return RESET
            if tag == "!append":
                if frame.is_map:
                    raise _Invalid("!append needs a list, e.g. !append [x]")
                return Append(tuple(value))
            return Replace(value)
        if tag == _CORE + "omap":
            return _omap(frame, value)
        if tag in (_CORE + "map", _CORE + "seq") and frame.is_map == tag.endswith("map"):
            return value
        short = tag.removeprefix(_CORE)
        if tag.startswith(_CORE) and short in _UNSUPPORTED:
            raise _Invalid(_UNSUPPORTED[short])
        raise _Invalid(_UNKNOWN.format(tag=_shown_tag(tag)))

    def _finish_map(self, frame: _Frame) -> dict[str, Any]:
        result = frame.pairs
        for source, key_mark, value_mark in frame.merges:
            for key, item in source.items():
                if key not in result:
                    result[key] = item
                    self.doc.keys.setdefault((*frame.path, key), key_mark)
                    self.doc.values.setdefault((*frame.path, key), value_mark)
        return result

    def _place(
        self,
        value: Any,
        mark: tuple[int, int],
        anchor: str | None,
        size: int,
        height: int,
        *,
        unread: bool = False,
    ) -> None:
        """Put ``value`` where the document is; ``unread``: a value that could not be read
        (its problem is reported): None, its path in :attr:`unread`, and a key that could
        not be read is left out with its value."""
        if anchor is not None:
            self.anchors[anchor] = (value, size, height, unread)
        top = self.stack[-1] if self.stack else None
        if value is _MERGE_KEY and (top is None or not top.is_map or top.has_key):
            value = "<<"  # a merge key only means "merge" as a key
        if top is None:
            self.root = value
            if unread:
                self.unread.add(())
            return
        if height >= top.height:
            top.height = height + 1
        if not top.is_map:
            path = (*top.path, len(top.items))
            self.doc.values[path] = mark
            top.items.append(value)
            if unread:
                self.unread.add(path)
        elif not top.has_key:
            if unread:
                top.key, top.has_key, top.skip, top.key_mark = None, True, True, mark
            else:
                self._take_key(top, value, mark)
        else:
            self._take_value(top, value, mark, unread)

    def _take_key(self, top: _Frame, key: Any, mark: tuple[int, int]) -> None:
        top.key, top.has_key, top.skip = key, True, False
        top.key_mark = mark
        if key is _MERGE_KEY:
            return
        if not isinstance(key, str):
            got = describe(key) if not isinstance(key, (Append, Replace, Reset)) else "tagged"
            self._problem(mark, top.path, f"key {got} is not a string")
            top.skip = True
            return
        if key in top.pairs:
            self._problem(mark, (), f"duplicate key {key!r}")
            top.skip = True
            return
        top.key_path = path = (*top.path, key)
        self.doc.keys[path] = mark

    def _take_value(self, top: _Frame, value: Any, mark: tuple[int, int], unread: bool) -> None:
        key, key_mark = top.key, top.key_mark
        top.has_key = False
        if top.skip or (unread and key is _MERGE_KEY):
            return
        if unread:
            self.unread.add(top.key_path)
        if key is _MERGE_KEY:
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                message = "<< (merge key) needs a mapping or a list of mappings"
                self._problem(mark, top.path, message)
                return
            top.merges.extend((source, key_mark, mark) for source in sources)
            return
        top.pairs[key] = value
        self.doc.values[top.key_path] = mark


def _omap(frame: _Frame, value: Any) -> Any:
    """The value of a ``!!omap``; :class:`_Invalid` says why not."""
    if frame.is_map:
        return value
    result: dict[str, Any] = {}
    for item in value:
        if not (isinstance(item, dict) and len(item) == 1):
            raise _Invalid("!!omap needs a list of one-key mappings, e.g. !!omap [a: 1, b: 2]")
        ((key, item_value),) = item.items()
        if key in result:
            raise _Invalid(f"duplicate key {key!r}")
        result[key] = item_value
    return result


class _MergeKey:
    def __repr__(self) -> str:
        return "<<"


_MERGE_KEY: Final = _MergeKey()


@dataclass(frozen=True)
class _Failed:
    """A remembered :class:`_Invalid`."""

    message: str


_MISS: Final = object()
_PLAIN_VALUES: dict[str, Any] = {}
"""text -> value (or :class:`_Failed`) of an untagged plain scalar in YAML 1.2; emptied when
it reaches :data:`_RESOLVED_SIZE` entries."""
_RESOLVED: dict[tuple[Any, str, Any, bool], Any] = {}
"""(YAML version, text, implicit flags, plain) -> value (or :class:`_Failed`) of an untagged
scalar; emptied when it reaches :data:`_RESOLVED_SIZE` entries."""
_RESOLVED_SIZE: Final = 50_000


_PLAIN_READER: Final = _Builder(Document("", {}), DEFAULT_LIMITS)
"""Reads plain scalars for :func:`_plain_value` (YAML 1.2)."""


def _mark(event: Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _shown_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _scalar_value(tag: str, text: str, version: Any) -> Any:
    """A scalar with a core-schema tag as Python data; :class:`_Invalid` says why not."""
    kind = tag.removeprefix(_CORE)
    if kind == "str":
        return text
    if kind == "null":
        if text in ("", "~", "null", "Null", "NULL"):
            return None
    elif kind == "bool":
        words = {"true": True, "false": False}
        if version == (1, 1):
            words |= {"yes": True, "no": False, "on": True, "off": False, "y": True, "n": False}
        if text.lower() in words:
            return words[text.lower()]
    elif kind == "int":
        return _int(text, version)
    elif kind == "float":
        return _float(text)
    elif kind in _UNSUPPORTED:
        raise _Invalid(_UNSUPPORTED[kind])
    elif kind in ("map", "seq", "omap"):
        raise _Invalid(f"!!{kind} needs a {'list' if kind == 'seq' else 'mapping'}")
    else:
        raise _Invalid(_UNKNOWN.format(tag=_shown_tag(tag)))
    raise _Invalid(f"cannot read {text!r} as !!{kind}")


def _int(text: str, version: Any) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits[:1] == "-" else 1
    digits = digits.lstrip("+-")
    if len(digits) > 25:
        raise _Invalid(OUT_OF_RANGE)
    try:
        if ":" in digits and version == (1, 1):
            value = 0
            for part in digits.split(":"):
                value = value * 60 + int(part)
        elif digits[:2].lower() in ("0b", "0x", "0o"):
            value = int(digits[2:], {"b": 2, "x": 16, "o": 8}[digits[1].lower()])
        elif version == (1, 1) and len(digits) > 1 and digits[0] == "0":
            value = int(digits, 8)
        else:
            value = int(digits)
    except ValueError:
        raise _Invalid(f"cannot read {text!r} as !!int") from None
    value *= sign
    if not fits_64_bits(value):
        raise _Invalid(OUT_OF_RANGE)
    return value


def _float(text: str) -> float:
    lowered = text.replace("_", "").lower()
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    if lowered in special:
        return special[lowered]
    try:
        return float(lowered)
    except ValueError:
        raise _Invalid(f"cannot read {text!r} as !!float") from None


# ------------------------------------------------------------------------------------------
# Words


def dotted(path: Path) -> str:
    """``("load", "gpu", "ratio")`` -> ``"load.gpu.ratio"``; list indices as ``[i]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def describe(value: Any) -> str:
    """How a value reads in a message: its YAML spelling and kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, (int, float)):
        return f"{value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__
