"""Print an imported document as YAML: deterministic, in the style of the examples.

Scalars are spelled by PyYAML (so quoting is always right); the layout is ours: short
mappings and lists of scalars in flow style, multi-line strings as literal blocks, and a
`# import-xml: ...` comment above every value kept as the original wrote it."""

from __future__ import annotations

import re
from typing import Any

import yaml

from draftsman_gen.importxml.translate import Marked

FLOW_WIDTH = 88  # a flow collection longer than this is written as a block
# A plain scalar inside a flow collection: only what can never be read as anything else.
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .@/+=-]*")
# A literal block holds printable text only; anything else is written double-quoted.
_BLOCK_SAFE = re.compile(r"[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd"
                         r"\U00010000-\U0010ffff]*")


def dump(doc: dict[str, Any], modeline: str) -> str:
    """`doc` as YAML. What our layout prints is read back and compared: should it ever differ
    (a value this writer spells wrong), PyYAML's own layout is used instead, without marks."""
    lines = [f"# yaml-language-server: $schema={modeline}"] if modeline else []
    _mapping(doc, 0, lines)
    text = "\n".join(lines) + "\n"
    plain = _unmarked(doc)
    try:
        same = yaml.safe_load(text) == plain
    except yaml.YAMLError:
        same = False
    if not same:  # every string double-quoted: escapes keep any text exact
        head = lines[0] + "\n" if modeline else ""
        text = head + yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=100,
                                     default_style='"')
    return text


def _unmarked(value: Any) -> Any:
    if isinstance(value, Marked):
        return _unmarked(value.value)
    if isinstance(value, dict):
        return {k: _unmarked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmarked(v) for v in value]
    return value


def _mapping(doc: dict[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in doc.items():
        if isinstance(value, Marked):
            lines.append(f"{pad}# {value.note}")
            value = value.value
        head = f"{pad}{_scalar(key)}:"
        _value(value, head, indent, lines)


def _value(value: Any, head: str, indent: int, lines: list[str]) -> None:
    if isinstance(value, str) and "\n" in value and _BLOCK_SAFE.fullmatch(value):
        lines.extend(_block(value, head, indent + 2))
        return
    flow = _flow(value)
    if flow is not None and len(head) + 1 + len(flow) <= FLOW_WIDTH:
        lines.append(f"{head} {flow}")
    elif isinstance(value, dict):
        lines.append(head)
        _mapping(value, indent + 2, lines)
    elif isinstance(value, list):
        lines.append(head)
        _sequence(value, indent + 2, lines)
    else:
        lines.append(f"{head} {_scalar(value)}")


def _sequence(items: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, Marked):
            lines.append(f"{pad}# {item.note}")
            item = item.value
        if isinstance(item, dict) and item and (_depth(item) > 1 or _flow(item) is None):
            first = len(lines)
            _mapping(item, indent + 2, lines)
            lines[first] = pad + "- " + lines[first][indent + 2:]
        elif isinstance(item, str) and "\n" in item and _BLOCK_SAFE.fullmatch(item):
            lines.extend(_block(item, f"{pad}-", indent + 2))
        else:
            flow = _flow(item)
            lines.append(f"{pad}- {flow if flow is not None else _scalar(item)}")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _flow(value: Any) -> str | None:
    """The flow-style spelling of a small collection (of scalars, or of small collections
    of scalars), else None."""
    if isinstance(value, Marked) or _depth(value) > 2:
        return None
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = []
        for key, item in value.items():
            inner = _flow(item) if isinstance(item, (dict, list)) else _flow_scalar(item)
            if inner is None:
                return None
            parts.append(f"{_flow_scalar(key)}: {inner}")
        text = "{" + ", ".join(parts) + "}"
    elif isinstance(value, list):
        if not value:
            return "[]"
        parts = []
        for item in value:
            inner = _flow(item) if isinstance(item, (dict, list)) else _flow_scalar(item)
            if inner is None:
                return None
            parts.append(inner)
        text = "[" + ", ".join(parts) + "]"
    else:
        return None
    return text if len(text) <= FLOW_WIDTH else None


def _flow_scalar(value: Any) -> str | None:
    if isinstance(value, Marked) or (isinstance(value, str) and "\n" in value):
        return None
    text = _scalar(value)
    if isinstance(value, str) and text == value and not (
        _FLOW_PLAIN.fullmatch(value) and not value.endswith(" ")
    ):
        text = _scalar(value, '"')
    return text


def _scalar(value: Any, style: str | None = None) -> str:
    if isinstance(value, str) and style is None and not _BLOCK_SAFE.fullmatch(value):
        style = '"'  # NEL, LS, PS and control characters: only escapes keep them exact
    text = yaml.safe_dump(value, default_style=style, width=10**9, allow_unicode=True,
                          explicit_end=False)
    text = text.removesuffix("\n").removesuffix("\n...")
    if style is None and isinstance(value, str) and text.startswith("'") and "'" in value:
        return _scalar(value, '"')  # "'SHP-' + x" reads better than doubled single quotes
    return text


def _block(text: str, head: str, indent: int) -> list[str]:
    """A literal block scalar that reads back as exactly `text`."""
    pad = " " * indent
    body = text.split("\n")
    trailing = len(text) - len(text.rstrip("\n"))
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    if trailing:
        body = body[:-1]
    indicator = str(2) if body and body[0][:1] in (" ", "\t") else ""
    if indicator:
        pad = " " * (len(head) - len(head.lstrip()) + 2)
    lines = [f"{head} |{indicator}{chomp}"]
    lines += [(pad + line) if line else "" for line in body]
    return lines
