"""Free text made safe for Markdown pages and Mermaid diagrams: the only way text gets in.

Names are restricted by validation, but descriptions, messages, expressions, regexes and
values are free text. Every function here returns `Md` or `Mmd` (str subclasses); contexts
hold nothing else and the docs templates print nothing else (render.py refuses a plain str),
so text that skipped this module cannot reach a page.

The Markdown is GitHub's (GFM): one line per value, so that any value fits a table cell.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Iterable

from draftsman_gen.ir import JsonValue


class Md(str):
    """Markdown, safe on one line anywhere: a paragraph, a heading, a list item, a table cell."""

    __slots__ = ()

    def __html__(self) -> str:  # printed as is by the autoescaping template environment
        return str(self)


class Mmd(str):
    """Text safe inside a Mermaid statement: a node id, or the inside of a quoted label."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


# Characters that start Markdown syntax inline (emphasis, code, links, HTML, entities, tables,
# strikethrough, GitHub's math). Every ASCII punctuation character may be backslash-escaped.
_MD_SPECIAL = frozenset("\\`*_[]<>|~#&$")
# A line that begins like a list item, a heading or a block quote would become one.
_BLOCK_START = re.compile(r"[-+=]|(\d{1,9})([.)])")
# Bidirectional controls reorder what a reader sees ("Trojan source"): shown, not obeyed.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
NEWLINE_MARK = "\u21b5"  # ↵: a line break inside a one-line code span
NONE = Md("\u2014")  # an em dash: nothing here


def _visible(value: str) -> str:
    """Control and bidi characters as `\\uXXXX`; line breaks and tabs are left to the caller."""
    return "".join(
        f"\\u{ord(c):04x}"
        if (c in _BIDI or unicodedata.category(c) == "Cc") and c not in "\n\r\t"
        else c
        for c in value
    )


def text(value: str) -> Md:
    """Prose (a description): whitespace and line breaks become single spaces, and every
    character that would start Markdown or HTML is escaped, so it reads exactly as written."""
    line = " ".join(_visible(value).split())
    escaped = "".join("\\" + c if c in _MD_SPECIAL else c for c in line)
    match = _BLOCK_START.match(escaped)
    if match and match.group(1):
        escaped = match.group(1) + "\\" + escaped[match.end(1):]
    elif match:
        escaped = "\\" + escaped
    return Md(escaped)


def code(value: str) -> Md:
    """A code span of any text, for table cells (GFM splits cells before code spans, so a `|`
    is escaped here; outside a table the backslash would show). Line breaks show as ↵."""
    inner = _visible(value).replace("\r\n", "\n").replace("\r", "\n")
    inner = inner.replace("\n", NEWLINE_MARK).replace("\t", " ").replace("|", "\\|")
    if not inner:
        return Md('`""`')
    ticks = max((len(run) for run in re.findall(r"`+", inner)), default=0)
    fence = "`" * (ticks + 1)
    # CommonMark strips one space from each end when both ends have one; a backtick at an
    # end would join the fence. Padding both ends keeps the content exact in either case.
    pad = " " if inner.strip(" ") and (inner[0] in "` " or inner[-1] in "` ") else ""
    return Md(f"{fence}{pad}{inner}{pad}{fence}")


def value(data: JsonValue) -> Md:
    """A value of the model (a default, a test case's input) as JSON in a code span."""
    return code(json.dumps(data, ensure_ascii=False, separators=(", ", ": ")))


def name(model_name: str) -> Md:
    """A model name (a field, an event) as code."""
    return code(model_name)


def join(parts: Iterable[Md], separator: str = ", ") -> Md:
    """Escaped parts joined; the separator is the caller's own (literal) text."""
    if any(c in _MD_SPECIAL or c == "\n" for c in separator):
        raise ValueError(f"separator {separator!r} would need escaping")
    return Md(separator.join(parts))


def link(label: Md, target: str) -> Md:
    """A link to one of the generated pages (a relative path and a heading's anchor)."""
    if not re.fullmatch(r"[A-Za-z0-9_./-]*(#[a-z0-9_-]+)?", target):
        raise ValueError(f"unsafe link target {target!r}")
    return Md(f"[{label}]({target})")


def code_block(source: str) -> tuple[Md, Md]:
    """A fenced block's fence and body: the fence is longer than any backtick run in the
    body, so no line of the code can close it."""
    body = _visible(source.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n")
    ticks = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return Md("`" * max(3, ticks + 1)), Md(body)


# -- Mermaid ------------------------------------------------------------------------------
# Inside a quoted label Mermaid still decodes `#name;` entities, finds `%%{...}%%` directives
# anywhere in the text, reads a leading backtick as a Markdown string and (with HTML labels)
# reads tags. Everything but these characters is written as a numeric entity, `#60;`.
_MERMAID_PLAIN = frozenset(string.ascii_letters + string.digits + " _.,:()'+=/-")
MERMAID_LABEL_LIMIT = 80


def label(value: str) -> Mmd:
    """The inside of a quoted Mermaid label ("..."): one line, at most 80 characters shown."""
    line = " ".join(_visible(value).split())
    if len(line) > MERMAID_LABEL_LIMIT:
        line = line[: MERMAID_LABEL_LIMIT - 1] + "\u2026"
    return Mmd("".join(c if c in _MERMAID_PLAIN else f"#{ord(c)};" for c in line))


def node_id(kind: str, *parts: str) -> Mmd:
    """A Mermaid node or subgraph id: `kind_Part_Part`. The kind prefix keeps ids clear of
    Mermaid's keywords (`end`, `graph`, ...) and of edge syntax (`o`, `x` after `--`); any
    character but a letter or digit is spelled out, so different parts give different ids."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"bad id kind {kind!r}")
    spelled = ("".join(c if c.isascii() and c.isalnum() else f"_x{ord(c):x}_" for c in part)
               for part in parts)
    return Mmd("_".join((kind, *spelled)))
