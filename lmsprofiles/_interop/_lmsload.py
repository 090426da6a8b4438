"""``lms load`` command lines to model profiles, and a model profile as one (pure).

``lms load KEY [--identifier NAME] [-c|--context-length N] [--gpu off|max|0..1] [--ttl S]
[--parallel N] [-y] [--exact] [--host H] [--port P]``: one line (a string or a line of a shell
script) makes one model profile. ``lms load`` sets no ttl without ``--ttl`` (the instance
stays loaded) and names the instance after the model key (``KEY``, then ``KEY:2``, ...), so the
profile says so explicitly.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._interop._draft import Draft, file_stem
from lmsprofiles._interop._kv import Skipped
from lmsprofiles._interop._shell import Word, commands

__all__ = ["looks_like_lms_load", "make_lms_load", "parse_lms_load"]

_NO_VALUE: Final = frozenset({"-y", "--yes", "--exact", "--verbose", "--quiet"})
_IGNORED_VALUE: Final = frozenset({"--log-level"})
_VALUE: Final = frozenset(
    {"-c", "--context-length", "--gpu", "--ttl", "--identifier", "--parallel", "--host", "--port"}
    | _IGNORED_VALUE
)
_SAME: Final = {"-c": "--context-length"}
"""Options that are another spelling of one option."""
_TAKEN: Final = frozenset({"--context-length", "--gpu", "--ttl", "--identifier"})
"""The options whose value a profile takes over."""


def looks_like_lms_load(text: str) -> bool:
    """True if some command of ``text`` runs ``lms load`` (also one the shell cannot read to
    its end)."""
    found, error = commands(text)
    if error is not None:
        found.append(error.partial)
    return any(_is_lms(words, i) for words in found for i in range(len(words)))


def _is_lms(words: list[Word], i: int) -> bool:
    word = words[i].text.rsplit("/", 1)[-1].removesuffix(".exe")
    return word == "lms" and i + 1 < len(words) and words[i + 1].text == "load"


@dataclass
class _Load:
    line: int
    key: str | None = None
    identifier: str | None = None
    context_length: int | None = None
    gpu: float | str | None = None
    ttl: int | None = None
    skipped: list[Skipped] = field(default_factory=list)
    estimate_only: bool = False
    given: dict[str, str] = field(default_factory=dict)
    """The value each option that a profile takes over was given (the last one counts)."""


Fail = Callable[[Word, str], None]


def parse_lms_load(text: str, source: str, *, label: str) -> list[Draft]:
    """One model profile per ``lms load`` in ``text`` (a command line or a shell script).

    Commands that run something else are not looked at. Raises ``ProfileError`` for text the
    shell cannot read and for an ``lms load`` that cannot be imported (no model key, an
    unknown option, a shell variable), each at the word it is about.
    """
    problems: list[Problem] = []

    def fail(word: Word, message: str) -> None:
        problems.append(Problem(source, word.line, word.column, "", message))

    found, error = commands(text)
    loads: list[_Load] = []
    for words in found:
        for start in (i for i in range(len(words)) if _is_lms(words, i)):
            load = _parse_args(words[start + 2 :], words[start], fail)
            if not load.estimate_only:
                loads.append(load)
    if error is not None:
        message = f"the shell cannot read this: {error.message}"
        problems.append(Problem(source, error.line, error.column, "", message))
    if not loads and not problems:
        problems.append(Problem(source, None, None, "", "no `lms load` command found"))
    if problems:
        raise ProfileError(problems)
    return _drafts(loads, label)


def _parse_args(args: list[Word], lms: Word, fail: Fail) -> _Load:
    load = _Load(lms.line)
    i = 0
    while i < len(args):
        word = args[i]
        arg = word.text
        if word.redirect:  # a redirection and its target: not arguments of lms
            i += 2
            continue
        option, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg.startswith("-c") and arg != "-c" and not arg.startswith("--"):
            option, eq, inline = "-c", "=", arg[2:]
        if word.expands:
            fail(word, f"{arg!r} is expanded by the shell; write the value itself")
            return load
        if not option.startswith("-"):
            if load.key is not None:
                fail(word, f"lms load takes one model key; got {load.key!r} and {arg!r}")
            load.key = arg
            i += 1
            continue
        if option in _NO_VALUE:
            i += 1
            continue
        if option == "--estimate-only":
            load.estimate_only = True
            i += 1
            continue
        if option not in _VALUE and not option.startswith("--speculative-draft"):
            fail(word, f"unknown lms load option {option}")
            return load
        at = word
        if eq:
            value = inline
            i += 1
        elif i + 1 < len(args) and not args[i + 1].redirect:
            at = args[i + 1]
            if at.expands:
                fail(at, f"{at.text!r} is expanded by the shell; write the value itself")
                return load
            value = at.text
            i += 2
        else:
            fail(word, f"{option} needs a value")
            return load
        _option(load, _SAME.get(option, option), option, value, functools.partial(fail, at))
    if load.key is None and not load.estimate_only:
        fail(lms, "lms load without a model key asks interactively; name the model key")
    return load


def _option(
    load: _Load, option: str, written: str, value: str, fail: Callable[[str], None]
) -> None:
    where = f"line {load.line}"
    if option in _TAKEN and option in load.given:
        reason = f"given again later on the line; lms load takes the last one ({value})"
        load.skipped.append(Skipped(written, load.given[option], reason, where))
    if option in _TAKEN:
        load.given[option] = value
    if option == "--context-length":
        number = _int(value)
        if number is None or number < 1:
            fail(f"{written} must be a whole number >= 1, not {value!r}")
        load.context_length = number
    elif option == "--gpu":
        load.gpu = _ratio(value)
        if load.gpu is None:
            fail(f"--gpu must be off, max or a number from 0 to 1, not {value!r}")
    elif option == "--ttl":
        load.ttl = _int(value)
        if load.ttl is None or load.ttl < 1:
            fail(f"--ttl must be a whole number of seconds >= 1, not {value!r}")
    elif option == "--identifier":
        load.identifier = value
    elif option == "--parallel":
        reason = "'maxParallelPredictions' is not supported by lmstudio SDK 1.5"
        load.skipped.append(Skipped("--parallel", value, reason, where))
    elif option in ("--host", "--port"):
        reason = "the host comes from --host or LMSPROFILES_HOST, not from a profile"
        load.skipped.append(Skipped(option, value, reason, where))
    elif option.startswith("--speculative-draft"):
        reason = "load-time speculative decoding is not supported by lmstudio SDK 1.5"
        load.skipped.append(Skipped(option, value, reason, where))


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _ratio(text: str) -> float | str | None:
    word = text.strip().lower()
    if word in ("off", "max"):
        return word
    try:
        number = float(word)
    except ValueError:
        return None
    if not 0 <= number <= 1:
        return None
    return int(number) if number.is_integer() else number


def _drafts(loads: list[_Load], label: str) -> list[Draft]:
    drafts: list[Draft] = []
    counts: dict[str, int] = {}
    for load in loads:
        assert load.key is not None
        identifier = load.identifier
        note = ""
        if identifier is None:
            counts[load.key] = counts.get(load.key, 0) + 1
            n = counts[load.key]
            identifier = load.key if n == 1 else f"{load.key}:{n}"
            note = "the identifier lms load gives this instance"
        stem = file_stem(identifier.replace(":", "-"))
        body: dict[str, Any] = {"model": load.key}
        notes: dict[str, str] = {}
        if identifier != stem:
            body["identifier"] = identifier
            if note:
                notes["identifier"] = note
        if "embed" in load.key.lower():
            body["type"] = "embedding"
            notes["type"] = "from the model key; lms load does not say"
        body["ttl"] = load.ttl
        if load.ttl is None:
            notes["ttl"] = "lms load without --ttl: stays loaded"
        section: dict[str, Any] = {}
        if load.context_length is not None:
            section["contextLength"] = load.context_length
        if load.gpu is not None:
            section["gpu"] = {"ratio": load.gpu}
        if section:
            body["load"] = section
        what = f"`lms load` on line {load.line} of {label}"
        drafts.append(Draft("models", stem, body, what, load.skipped, notes))
    return drafts


def make_lms_load(
    identifier: str, model: str, ttl: int | None, load: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """The ``lms load`` line for a resolved model, and the load fields it has no flag for."""
    words = ["lms", "load", model, "--identifier", identifier]
    missing: list[str] = []
    for name, value in load.items():
        if value is None:
            continue
        if name == "contextLength":
            words += ["--context-length", str(value)]
        elif name == "gpu" and isinstance(value, Mapping):
            for sub, item in value.items():
                if item is None:
                    continue
                if sub == "ratio":
                    words += ["--gpu", _ratio_text(item)]
                else:
                    missing.append(f"gpu.{sub}")
        else:
            missing.append(name)
    if ttl is not None:
        words += ["--ttl", str(ttl)]
    words += ["--exact", "-y"]
    return " ".join(shlex.quote(w) for w in words), missing


def _ratio_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
