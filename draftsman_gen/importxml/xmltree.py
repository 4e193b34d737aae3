"""Read one XML file into located nodes, refusing what could attack the reader.

defusedxml's parser is told to refuse any DTD (which covers entity expansion bombs and
external entities: Draftsman files never have one). Every node keeps its file, line and
column, so that every report points into the source."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from draftsman_gen.diagnostics import Diagnostic, Location

NAMESPACE = "https://tracepaper.draftsman.io"
MAX_BYTES = 8 * 1024 * 1024  # a large model.xml is about 1 MB
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


@dataclass
class Node:
    tag: str  # the local name
    attrs: dict[str, str]
    file: str  # relative to the import source
    line: int
    col: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def loc(self) -> Location:
        return Location(self.file, self.line, self.col)

    def kids(self, tag: str) -> list[Node]:
        return [child for child in self.children if child.tag == tag]


class _Builder:
    """The parser's target: builds Nodes, reading positions from the expat parser."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.parser: DefusedXMLParser | None = None
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.foreign: list[Diagnostic] = []

    def position(self) -> tuple[int, int]:
        expat = getattr(self.parser, "parser", None)
        if expat is None:
            return 1, 1
        return int(expat.CurrentLineNumber), int(expat.CurrentColumnNumber) + 1

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        line, col = self.position()
        local = tag
        if tag.startswith("{"):
            uri, _, local = tag[1:].partition("}")
            if uri != NAMESPACE:
                self.foreign.append(Diagnostic(
                    Location(self.rel, line, col), "DG403",
                    f"element <{local}> is in the namespace {uri!r}, not Draftsman's "
                    f"{NAMESPACE!r}",
                ))
        names = {}
        for key, value in attrs.items():
            if key.startswith("{"):  # xmlns:x="..." x:name="...": not Draftsman's, not ours
                uri, _, name = key[1:].partition("}")
                self.foreign.append(Diagnostic(
                    Location(self.rel, line, col), "DG411",
                    f"attribute {name!r} of <{local}> in the namespace {uri!r} not imported",
                    "warning"))
                continue
            names[key] = value
        node = Node(local, names, self.rel, line, col)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text += text

    def close(self) -> Node | None:
        return self.root


def read(path: Path, rel: str, warnings: list[Diagnostic] | None = None) -> Node | Diagnostic:
    """The root node of the XML file at `path` (reported as `rel`), or why it cannot be read;
    what was left out of the nodes is added to `warnings`."""
    where = Location(rel)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Diagnostic(where, "DG401", f"file is too large ({size:,} bytes; the limit "
                              f"is {MAX_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        return Diagnostic(where, "DG401", f"cannot read the file: {exc.strerror or exc}")
    if b"\0" in data[:8192] and not data.startswith(_WIDE_BOMS):  # UTF-16/32 have NULs
        return Diagnostic(where, "DG401", "binary file, not XML")
    builder = _Builder(rel)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException as exc:
        line, col = builder.position()
        return Diagnostic(Location(rel, line, col), "DG402",
                          f"refused: {_defused(exc)}; Draftsman models never contain one")
    except ParseError as exc:
        line, col = exc.position
        return Diagnostic(Location(rel, line, col + 1), "DG401",
                          f"malformed XML: {_reason(str(exc))}")
    except (ValueError, LookupError) as exc:  # an unknown or broken declared encoding
        return Diagnostic(where, "DG401", f"cannot decode the file: {exc}")
    errors = [d for d in builder.foreign if d.severity == "error"]
    if errors:
        return errors[0]
    if builder.root is None:
        return Diagnostic(where, "DG401", "malformed XML: no root element")
    if warnings is not None:
        warnings.extend(builder.foreign)
    return builder.root


def _defused(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "DTDForbidden":
        return "a DTD (<!DOCTYPE ...>), which could define entity expansion attacks"
    if name == "EntitiesForbidden":
        return "an entity declaration"
    if name == "ExternalReferenceForbidden":
        return "a reference to an external resource"
    return f"an unsafe construct ({name})"


def _reason(message: str) -> str:
    """expat's message without its own position (the diagnostic has it)."""
    return message.split(": line ")[0]
