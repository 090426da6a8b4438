"""The words of a POSIX shell script, with where each starts (pure).

Enough of the shell's reading rules to find the commands of a script and their arguments as
the shell passes them: quotes (``'...'``, ``"..."``), backslash escapes, line continuations,
comments, control operators (``;``, ``&&``, ``||``, ``|``, ``&``, ``(``, ``)``, newlines) and
redirections. Nothing is expanded: a word the shell would expand (``$VAR``, ``$(...)``,
backquotes) is marked as such. One pass over the text, so a script of any length is read in
time proportional to its length.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

__all__ = ["ShellError", "Word", "commands"]

_OPERATORS: Final = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")
_REDIRECTIONS: Final = ("<<-", "<<<", "<<", ">>", "<&", ">&", "&>>", "&>", "<>", ">|", "<", ">")
_BREAKS: Final = frozenset(" \t\n;&|()<>")
_EXPANDS: Final = frozenset(string.ascii_letters + string.digits + "_{(@*#?!$-'\"")
"""What makes a ``$`` before it an expansion (``$VAR``, ``${...}``, ``$(...)``, ``$?``, ...)."""
_IN_DOUBLE: Final = frozenset('$`"\\\n')


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a command, quotes removed; ``line`` and ``column`` (1-based) are where it
    starts. ``expands``: the shell would replace part of it (a variable, a command).
    ``redirect``: a redirection operator (``>``, ``2>``, ...), whose target is the next word."""

    text: str
    line: int
    column: int
    expands: bool = False
    redirect: bool = False


@dataclass(frozen=True)
class ShellError:
    """Where and why the shell could not read the text; ``partial`` are the words read of
    the command it stopped in."""

    line: int
    column: int
    message: str
    partial: list[Word] = field(default_factory=list)


@dataclass
class _Reader:
    text: str
    i: int = 0
    line: int = 1
    line_start: int = 0
    words: list[Word] = field(default_factory=list)

    @property
    def column(self) -> int:
        return self.i - self.line_start + 1

    def newline(self, start: int) -> None:
        """A line break before ``start``, where the next line starts."""
        self.line += 1
        self.line_start = start


def commands(text: str) -> tuple[list[list[Word]], ShellError | None]:
    """The simple commands of ``text``, each a list of words, and the error that stopped the
    reading (the commands read until then are returned with it; the one it stopped in is
    not)."""
    found: list[list[Word]] = []
    error: ShellError | None = None
    reader = _Reader(text)
    try:
        for command in _commands(reader):
            if command:
                found.append(command)
    except _Unclosed as exc:
        message = f"the {exc.quote} quote is not closed"
        error = ShellError(exc.line, exc.column, message, reader.words)
    return found, error


class _Unclosed(Exception):
    def __init__(self, quote: str, line: int, column: int) -> None:
        super().__init__(quote)
        self.quote, self.line, self.column = quote, line, column


def _commands(r: _Reader) -> Iterator[list[Word]]:
    text, size = r.text, len(r.text)
    while r.i < size:
        char = text[r.i]
        if char in " \t":
            r.i += 1
        elif char == "\n":
            yield _take(r)
            r.i += 1
            r.newline(r.i)
        elif char == "\\" and text.startswith("\\\n", r.i):  # a line continuation
            r.i += 2
            r.newline(r.i)
        elif char == "#":
            end = text.find("\n", r.i)
            r.i = size if end < 0 else end
        elif char in "<>" or (char == "&" and text.startswith((">", ">>"), r.i + 1)):
            _redirection(r, "")
        elif char in ";&|()":
            operator = next(o for o in _OPERATORS if text.startswith(o, r.i))
            r.i += len(operator)
            yield _take(r)
        else:
            _word(r)
    yield _take(r)


def _take(r: _Reader) -> list[Word]:
    words, r.words = r.words, []
    return words


def _redirection(r: _Reader, number: str) -> None:
    line, column = r.line, r.column - len(number)
    operator = next(o for o in _REDIRECTIONS if r.text.startswith(o, r.i))
    r.i += len(operator)
    r.words.append(Word(number + operator, line, column, redirect=True))


def _word(r: _Reader) -> None:
    """Read one word starting at ``r.i`` (not a blank, an operator or a comment)."""
    text, size = r.text, len(r.text)
    line, column = r.line, r.column
    parts: list[str] = []
    expands = False
    while r.i < size:
        char = text[r.i]
        if char in _BREAKS:
            break
        if char == "'":
            end = text.find("'", r.i + 1)
            if end < 0:
                raise _Unclosed("'", r.line, r.column)
            parts.append(_lines(r, text[r.i + 1 : end]))
            r.i = end + 1
        elif char == '"':
            expands |= _double(r, parts)
        elif char == "\\":
            if r.i + 1 < size and text[r.i + 1] == "\n":
                r.i += 2
                r.newline(r.i)
            else:
                parts.append(text[r.i + 1 : r.i + 2])
                r.i += 2
        else:
            if char == "`" or (char == "$" and r.i + 1 < size and text[r.i + 1] in _EXPANDS):
                expands = True
            parts.append(char)
            r.i += 1
    word = "".join(parts)
    if word.isdigit() and r.i < size and text[r.i] in "<>":  # 2>file: the fd of a redirection
        _redirection(r, word)
        return
    r.words.append(Word(word, line, column, expands))


def _double(r: _Reader, parts: list[str]) -> bool:
    """Read a double-quoted part (``r.i`` at its opening quote); True if it expands."""
    text, size = r.text, len(r.text)
    line, column = r.line, r.column
    r.i += 1
    expands = False
    while r.i < size:
        char = text[r.i]
        if char == '"':
            r.i += 1
            return expands
        if char == "\\" and r.i + 1 < size and text[r.i + 1] in _IN_DOUBLE:
            if text[r.i + 1] == "\n":
                r.i += 2
                r.newline(r.i)
                continue
            parts.append(text[r.i + 1])
            r.i += 2
            continue
        if char == "`" or (char == "$" and r.i + 1 < size and text[r.i + 1] in _EXPANDS):
            expands = True
        parts.append(char)
        r.i += 1
        if char == "\n":
            r.newline(r.i)
    raise _Unclosed('"', line, column)


def _lines(r: _Reader, part: str) -> str:
    """Count the line breaks inside a single-quoted ``part``."""
    breaks = part.count("\n")
    if breaks:
        r.line += breaks - 1
        r.newline(r.i + 1 + part.rfind("\n") + 1)
    return part
