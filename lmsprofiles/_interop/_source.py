"""Import sources, read with the limits of profile files, and checks of their keys.

A source is a file, standard input (``-``) or one ``lms load`` command line. Each is read
with the limits profile files are read with (:class:`lmsprofiles._yaml.Limits`, raised with
``LMSPROFILES_MAX_FILE_BYTES``, ``LMSPROFILES_MAX_DEPTH`` and ``LMSPROFILES_MAX_NODES``):
its size before anything is parsed, the nesting of JSON before it is decoded (Python's
decoder recurses, so a deep document would exhaust the stack) and the number of values.
YAML is read by :mod:`lmsprofiles._yaml`, which checks the same limits as it reads.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, TextIO

from lmsprofiles._errors import Problem, ProfileError

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document, Limits

__all__ = ["Found", "Source", "check_shape", "read_json", "read_source", "unknown_key"]


@dataclass(frozen=True)
class Source:
    """The text of one source. ``name`` names it in messages (a path, ``<stdin>``,
    ``<command line>``), ``label`` in the comments of the files it makes."""

    text: str
    name: str
    label: str
    suffix: str = ""


def read_source(
    spec: str, limits: Limits, stdin: TextIO, is_command: Callable[[str], bool] | None = None
) -> Source:
    """The source ``spec`` names: ``-`` (``stdin``), a file, or else an ``lms load`` command
    line (``is_command(spec)`` says whether it is one). Raises ``ProfileError``."""
    from lmsprofiles._yaml import _decode, _read_bytes

    if spec == "-":
        return Source(_read_stream(stdin, limits), "<stdin>", "standard input")
    if os.path.lexists(spec):
        data = _read_bytes(Path(spec), spec, limits)
        return Source(_decode(data, spec), spec, Path(spec).name, Path(spec).suffix.lower())
    if is_command is not None and is_command(spec):
        if len(spec.encode("utf-8", "surrogatepass")) > limits.max_file_bytes:
            raise ProfileError.single("<command line>", _too_large(limits))
        return Source(spec, "<command line>", "the command line")
    raise ProfileError.single(spec, "no such file (and not an `lms load` command line)")


def _too_large(limits: Limits) -> str:
    return f"is larger than {limits.max_file_bytes} bytes (LMSPROFILES_MAX_FILE_BYTES)"


def _read_stream(stdin: TextIO, limits: Limits) -> str:
    """Standard input, up to the size limit; its bytes when it has them (a pipe, a file)."""
    from lmsprofiles._yaml import _decode, _read_at_most

    buffer: BinaryIO | None = getattr(stdin, "buffer", None)
    if buffer is not None:
        data = _read_at_most(buffer, limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise ProfileError.single("<stdin>", _too_large(limits))
        return _decode(data, "<stdin>")
    text = stdin.read(limits.max_file_bytes + 1)
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_file_bytes:
        raise ProfileError.single("<stdin>", _too_large(limits))
    return text


def read_json(text: str, source: str, limits: Limits) -> tuple[Any, Document | None]:
    """The JSON value of ``text`` and, when it reads as YAML too (JSON nearly always does),
    the positions of its values. Raises ``ProfileError`` for text that is not JSON, for a
    limit passed and for a key given twice in one object."""
    from lmsprofiles._overrides import _json_depth
    from lmsprofiles._yaml import parse

    found: list[str] = []
    data: Any = None
    if _json_depth(text, limits.max_depth) > limits.max_depth:
        found.append(f"nesting deeper than {limits.max_depth} levels (LMSPROFILES_MAX_DEPTH)")
    else:
        try:
            data = json.loads(text, object_pairs_hook=_pairs(found))
        except json.JSONDecodeError as exc:
            problem = Problem(source, exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")
            raise ProfileError([problem]) from None
        if _values(data) > limits.max_nodes:
            found.append(
                f"more than {limits.max_nodes} values in one document (LMSPROFILES_MAX_NODES)"
            )
    try:
        doc: Document | None = parse(text, source, limits)
    except ProfileError:
        if found:
            raise  # the same problems, with their positions
        doc = None  # valid JSON that is not valid YAML: positions are then unknown
    if found:
        raise ProfileError(Problem(source, None, None, "", message) for message in found)
    return data, doc


def _pairs(found: list[str]) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                found.append(f"duplicate key {key!r}")
            result[key] = value
        return result

    return pairs


def _values(data: Any) -> int:
    """Values in a JSON document, keys included, as the YAML reader counts them."""
    count = 0
    todo = [data]
    while todo:
        item = todo.pop()
        count += 1
        if isinstance(item, dict):
            count += len(item)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return count


def unknown_key(key: str, valid: Collection[str]) -> str:
    """The message for a key that is none of ``valid``, with the closest one if any."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; valid keys: {', '.join(valid)}"


@dataclass
class Found:
    """The problems found in a source document, as ``(dotted path, message)``: ``values``
    are about the value at the path, ``keys`` about the key there (located at the key)."""

    values: list[tuple[str, str]] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.values or self.keys)

    def located(self, source: str, doc: Document | None) -> list[Problem]:
        """The problems with their positions in ``doc``."""
        from lmsprofiles._interop._draft import problem_at

        return [problem_at(source, doc, w, m) for w, m in self.values] + [
            problem_at(source, doc, w, m, key=True) for w, m in self.keys
        ]


Shape = Mapping[str, Any]
"""What a source mapping holds: key -> ``str``, ``bool``, ``list`` (of ``{key, value}``
entries), ``dict`` (any mapping), ``object`` (anything) or a nested shape."""


def check_shape(data: Any, shape: Shape, where: str, found: Found) -> None:
    """Add to ``found`` every key of ``data`` that ``shape`` does not have and every value
    of the wrong type; ``where`` is the dotted path of ``data`` ("" for the document)."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, Mapping):
        names = [repr(k) for k in shape]
        listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        found.values.append((where, f"expected a mapping with {listed}"))
        return
    for key, value in data.items():
        path = prefix + str(key)
        wanted = shape.get(key, None) if isinstance(key, str) else None
        if wanted is None:
            found.keys.append((path, unknown_key(str(key), list(shape))))
        elif isinstance(wanted, Mapping):
            check_shape(value, wanted, path, found)
        elif wanted is not object and not isinstance(value, wanted):
            found.values.append((path, _EXPECTED[wanted]))


_EXPECTED: Final[Mapping[type, str]] = {
    str: "expected a string",
    bool: "expected true or false",
    list: "expected a list of {key, value} entries",
    dict: "expected a mapping",
}
