"""Deterministic stand-ins for a model: tokens, replies, schema-shaped JSON and embeddings.

Everything here is a pure function of its input, so tests can assert exact output.

* A token is a run of non-space characters with the whitespace after it (``"Echo: hi."`` is
  two tokens, ``"Echo: "`` and ``"hi."``); token ids are CRC-32 based.
* A reply to a chat is ``"Echo: <last user text>. This is the LM Studio emulator speaking."``.
* Structured output is the smallest JSON document that satisfies the JSON schema.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "REPLY_SUFFIX",
    "chat_reply",
    "dumps",
    "embed",
    "json_for_schema",
    "render_prompt",
    "split_tokens",
    "stop_at",
    "token_ids",
    "user_history",
]

REPLY_SUFFIX = "This is the LM Studio emulator speaking."
_TOKEN_RE = re.compile(r"\s+|\S+\s*")
_TOKEN_START_RE = re.compile(r"^\s+|\S+\s*")


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into tokens whose concatenation is exactly ``text``."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        match = (_TOKEN_START_RE if position == 0 else _TOKEN_RE).match(text, position)
        assert match is not None
        tokens.append(match.group(0))
        position = match.end()
    return tokens


def token_ids(text: str) -> list[int]:
    """Deterministic token ids of ``text``, one per token of :func:`split_tokens`."""
    return [zlib.crc32(token.strip().encode("utf-8")) % 1_000_003 for token in split_tokens(text)]


def _message_text(message: Mapping[str, Any]) -> str:
    parts = message.get("content", [])
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        elif part.get("type") == "toolCallResult":
            texts.append(str(part.get("content", "")))
        elif part.get("type") == "file":
            texts.append(f"[file {part.get('name', '')}]")
    return " ".join(texts)


def _messages(history: object) -> list[Mapping[str, Any]]:
    messages = history.get("messages", []) if isinstance(history, Mapping) else []
    return [m for m in messages if isinstance(m, Mapping)] if isinstance(messages, list) else []


def user_history(text: str) -> dict[str, Any]:
    """A chat history of one user message (how a raw completion prompt is answered)."""
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def render_prompt(history: object) -> str:
    """The chat as one prompt string (what ``applyPromptTemplate`` returns)."""
    lines = [f"<|{m.get('role', 'user')}|>{_message_text(m)}" for m in _messages(history)]
    return "\n".join([*lines, "<|assistant|>"])


def chat_reply(history: object) -> str:
    """The full reply to a chat, before maxTokens and stop strings are applied."""
    user_texts = [_message_text(m) for m in _messages(history) if m.get("role") == "user"]
    last = user_texts[-1].strip() if user_texts else ""
    return f"Echo: {last}. {REPLY_SUFFIX}" if last else REPLY_SUFFIX


def embed(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector of length ``dimensions`` derived from ``text``."""
    raw = bytearray()
    counter = 0
    while len(raw) < 4 * dimensions:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [
        (v / 0xFFFFFFFF) * 2 - 1 for v in struct.unpack(f"<{dimensions}I", raw[: 4 * dimensions])
    ]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def json_for_schema(schema: object) -> Any:
    """A value that satisfies the JSON schema ``schema`` (``$ref`` into ``$defs`` supported)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _value(root, root, depth=0)


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node.get("$ref"), str) and seen < 32:
        target: Any = root
        for part in node["$ref"].lstrip("#").strip("/").split("/"):
            if not part:
                continue
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(target, Mapping)
                else {}
            )
        node = target if isinstance(target, Mapping) else {}
        seen += 1
    return node


def _value(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    node = _resolve(node, root)
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    for combinator in ("allOf", "anyOf", "oneOf"):
        options = node.get(combinator)
        if isinstance(options, list) and options:
            if combinator == "allOf":
                merged: dict[str, Any] = {}
                for option in options:
                    if isinstance(option, Mapping):
                        merged.update(_resolve(option, root))
                return _value(merged, root, depth + 1)
            non_null = [o for o in options if isinstance(o, Mapping) and o.get("type") != "null"]
            return _value((non_null or options)[0], root, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        kind = kinds[0] if kinds else None
    if kind is None:
        kind = "object" if "properties" in node else "string"
    return _typed_value(str(kind), node, root, depth)


def _typed_value(kind: str, node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if kind == "object":
        properties = node.get("properties", {})
        if not isinstance(properties, Mapping) or depth > 16:
            return {}
        return {
            str(name): _value(sub if isinstance(sub, Mapping) else {}, root, depth + 1)
            for name, sub in properties.items()
        }
    if kind == "array":
        items = node.get("items", {})
        count = max(1, int(node.get("minItems", 1)))
        if "maxItems" in node:
            count = min(count, int(node["maxItems"]))
        if isinstance(node.get("prefixItems"), list):
            return [
                _value(i, root, depth + 1) for i in node["prefixItems"] if isinstance(i, Mapping)
            ]
        item = _value(items if isinstance(items, Mapping) else {}, root, depth + 1)
        return [item] * count if depth <= 16 else []
    if kind in ("integer", "number"):
        return _number(kind, node)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(node)


def _number(kind: str, node: Mapping[str, Any]) -> int | float:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value: float = 1
    if isinstance(low, int | float):
        value = low + (1 if "minimum" not in node else 0)
    if isinstance(high, int | float) and value > high:
        value = high - (1 if "maximum" not in node else 0)
    multiple = node.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = math.ceil(value / multiple) * multiple
    return int(value) if kind == "integer" else float(value)


def _string(node: Mapping[str, Any]) -> str:
    formats = {
        "date-time": "2024-01-01T00:00:00Z",
        "date": "2024-01-01",
        "time": "00:00:00",
        "email": "user@example.com",
        "uri": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }
    text = formats.get(str(node.get("format", "")), "text")
    minimum = node.get("minLength")
    if isinstance(minimum, int) and len(text) < minimum:
        text = text + "x" * (minimum - len(text))
    maximum = node.get("maxLength")
    if isinstance(maximum, int) and len(text) > maximum:
        text = text[:maximum]
    return text


def dumps(value: Any) -> str:
    """JSON text as the emulator emits it (compact separators with a space)."""
    return json.dumps(value, ensure_ascii=False)


def stop_at(text: str, stop_strings: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the earliest stop string, and whether one was found."""
    cut = min((i for s in stop_strings if s and (i := text.find(s)) >= 0), default=-1)
    if cut < 0:
        return text, False
    return text[:cut], True
