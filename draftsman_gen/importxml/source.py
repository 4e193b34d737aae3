"""Find the format of an import source and gather its elements by kind.

Two formats (see docs/import-xml.md): the older monolithic `model.xml` (v2) and the newer
per-file repository with a `config.xml` at its root (v3/v4). Both end up as one `Source`, so
that translation does not care which it came from. What the model language has no place for
(views, projections, notifiers, scenarios, templates, roles, deleted events) is reported
here, one warning per element or file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from draftsman_gen.diagnostics import Diagnostic, Location
from draftsman_gen.importxml.xmltree import Node, read

# What is not imported, and why (the report's words; the summary counts by these kinds).
NOT_IMPORTED = {
    "view": "views are the original's read models; this language has no views (the API "
    "reads documents directly: get and filter)",
    "projection": "projections are custom read queries; this language has none",
    "notifier": "notifiers (side effects: e-mail, IAM, HTTP) are not part of this language",
    "scenario": "functional scenarios run against a deployed stack; this language tests "
    "flows with test cases",
    "template": "templates serve notifiers, which are not imported",
    "roles": "roles are not declared in this language: a command names its role (`role:`)",
    "deleted-event": "a deleted domain event (.xml.bin) is not imported",
    "file-uploaded": "FileUploaded is an AWS S3 event; this language has no file uploads",
}


@dataclass
class Doc:
    """An element and the description the repository keeps beside it (`<name>.md`)."""

    node: Node
    description: str = ""


@dataclass
class AggregateSource:
    subdomain: str
    name: str
    where: Location
    root: Doc | None = None
    entities: list[Node] = field(default_factory=list)
    events: list[Doc] = field(default_factory=list)
    handlers: list[Node] = field(default_factory=list)
    flows: list[Doc] = field(default_factory=list)


@dataclass
class Source:
    form: str  # "v2" or "v4"
    project: Node | None = None
    description: str = ""
    commands: list[tuple[tuple[str, ...], Doc]] = field(default_factory=list)  # (folders, doc)
    aggregates: dict[tuple[str, str], AggregateSource] = field(default_factory=dict)
    patterns: list[Doc] = field(default_factory=list)
    expressions: list[Doc] = field(default_factory=list)
    lib: dict[str, Path] = field(default_factory=dict)  # "lib/x.py" -> the file
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # what was not imported, by kind

    def aggregate(self, subdomain: str, name: str, where: Location) -> AggregateSource:
        key = (subdomain, name)
        if key not in self.aggregates:
            self.aggregates[key] = AggregateSource(subdomain, name, where)
        return self.aggregates[key]

    def warn(self, where: Location, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(where, code, message, "warning"))

    def error(self, where: Location, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(where, code, message))

    def skip(self, where: Location, kind: str, what: str) -> None:
        self.skipped[kind] += 1
        self.warn(where, "DG410", f"{what} not imported: {NOT_IMPORTED[kind]}")


def gather(path: Path) -> Source:
    """The elements of the model at `path`: a model.xml file or a repository folder."""
    if path.is_file():
        return _v2(path, path.name, path.parent)
    if (path / "config.xml").is_file():
        return _v4(path)
    if (path / "model.xml").is_file():
        return _v2(path / "model.xml", "model.xml", path)
    source = Source("v4")
    source.error(Location(path.name or str(path)), "DG403",
                 "no Draftsman model here: neither a config.xml (a per-file repository) "
                 "nor a model.xml")
    return source


# -- v2: one model.xml ------------------------------------------------------------------------
def _project(source: Source, file: Path, rel: str) -> Node | None:
    """The <draftsman> root of model.xml or config.xml, or None (and why, reported)."""
    root = read(file, rel)
    if isinstance(root, Diagnostic):
        source.diagnostics.append(root)
        return None
    if root.tag != "draftsman":
        source.error(root.loc, "DG403", f"the root element of {rel} is <{root.tag}>, not "
                     "<draftsman>: not a Draftsman model")
        return None
    source.project = root
    return root


def _v2(file: Path, rel: str, folder: Path) -> Source:
    source = Source("v2")
    root = _project(source, file, rel)
    if root is None:
        return source
    for child in root.children:
        if child.tag == "global":
            for item in child.children:
                if item.tag == "pattern":
                    source.patterns.append(Doc(item))
                elif item.tag == "expression":
                    source.expressions.append(Doc(item))
        elif child.tag == "events":
            _v2_events(source, child)
        elif child.tag == "domain":
            _v2_domain(source, child)
        elif child.tag in ("views", "projections", "notifiers"):
            kind = child.tag[:-1]
            for item in child.children:
                source.skip(item.loc, kind, f"{kind} {item.attrs.get('name', '')!r}")
        elif child.tag == "functional-scenarios":
            source.skip(child.loc, "scenario", "the functional-scenarios settings")
            for item in child.kids("scenario"):
                source.skip(item.loc, "scenario", f"scenario {item.attrs.get('name', '')!r}")
    _lib(source, folder)
    return source


def _v2_events(source: Source, events: Node) -> None:
    for event in events.kids("event"):
        kind = event.attrs.get("type", "")
        name = event.attrs.get("name", "")
        if kind == "ActorEvent":
            source.commands.append(((), Doc(event)))
        elif name == "FileUploaded":
            source.skip(event.loc, "file-uploaded", "the event FileUploaded")
        elif kind == "DomainEvent":
            owner = event.attrs.get("source", "")
            subdomain, dot, aggregate = owner.partition(".")
            if not dot or not subdomain or not aggregate:
                source.warn(event.loc, "DG415", f"domain event {name!r} has source "
                            f"{owner!r}, not Subdomain.Aggregate: not imported")
                continue
            source.aggregate(subdomain, aggregate, event.loc).events.append(Doc(event))
        else:
            source.warn(event.loc, "DG411", f"event {name!r} of unknown type {kind!r} "
                        "(ActorEvent or DomainEvent): not imported")


def _v2_domain(source: Source, domain: Node) -> None:
    for subdomain in domain.kids("subdomain"):
        for node in subdomain.kids("aggregate"):
            agg = source.aggregate(subdomain.attrs.get("name", ""), node.attrs.get("name", ""),
                                   node.loc)
            agg.root = Doc(node)
            agg.entities += node.kids("nested-object")
            agg.handlers += node.kids("event-handler")
            agg.flows += [Doc(flow) for flow in node.kids("command")]


# -- v3/v4: one file per element ------------------------------------------------------------
def _v4(repo: Path) -> Source:
    source = Source("v4")
    config = _project(source, repo / "config.xml", "config.xml")
    if config is None:
        return source
    for child in config.children:
        if child.tag == "functional-scenarios":
            source.skip(child.loc, "scenario", "the functional-scenarios settings")
        elif child.tag == "events":
            for event in child.kids("event"):
                if event.attrs.get("name") == "FileUploaded":
                    source.skip(event.loc, "file-uploaded", "the event FileUploaded")
                else:
                    source.warn(event.loc, "DG411", f"event {event.attrs.get('name', '')!r} "
                                "in config.xml: not imported")
    readme = repo / "README.md"
    if readme.is_file():
        source.description = _text(readme)
    for file in sorted(repo.rglob("*")):
        rel = file.relative_to(repo)
        if any(part.startswith(".") for part in rel.parts) or not file.is_file():
            continue
        _v4_file(source, repo, file, rel)
    return source


def _v4_file(source: Source, repo: Path, file: Path, rel: Path) -> None:
    parts, name, where = rel.parts, file.name, Location(rel.as_posix())
    top = parts[0] if len(parts) > 1 else ""
    if name.endswith((".md", ".log")) or rel.as_posix() == "config.xml":
        return  # descriptions are read beside their element; logs are the modeler's
    if name.endswith(".xml.bin"):
        source.skip(where, "deleted-event", f"{name}")
        return
    if rel.as_posix() == "meta.json":
        source.skip(where, "roles", "meta.json (the roles list)")
        return
    if top == "lib" and len(parts) == 2 and name.endswith(".py"):
        source.lib[rel.as_posix()] = file
        return
    if top == "templates":
        source.skip(where, "template", f"template {rel.as_posix()}")
        return
    if top in ("views", "projections", "notifiers", "scenarios") and name.endswith(".xml"):
        kind = top[:-1]
        source.skip(where, kind, f"{kind} {file.stem!r}")
        return
    if not name.endswith(".xml") or not _place(parts):
        source.warn(where, "DG411", "file not imported: not part of a Draftsman repository's "
                    "layout")
        return
    node = read(file, rel.as_posix())
    if isinstance(node, Diagnostic):
        source.diagnostics.append(node)
        return
    doc = Doc(node, _description(file))
    if top == "commands":
        source.commands.append((parts[1:-1], doc))
    elif top == "patterns":
        source.patterns.append(doc)
    elif top == "expressions":
        source.expressions.append(doc)
    else:  # domain/<Sd>/<Agg>/...
        agg = source.aggregate(parts[1], parts[2], where)
        if len(parts) == 4:
            agg.root = doc
        elif parts[3] == "entities":
            agg.entities.append(node)
        elif parts[3] == "events":
            agg.events.append(doc)
        elif parts[3] == "event-handlers":
            agg.handlers.append(node)
        else:
            agg.flows.append(doc)


def _place(parts: tuple[str, ...]) -> bool:
    """Whether an XML file's path is one of the layout's places for an element."""
    top = parts[0] if len(parts) > 1 else ""
    if top == "commands":
        return True
    if top in ("patterns", "expressions"):
        return len(parts) == 2
    if top == "domain":
        if len(parts) == 4:
            return parts[3] == "root.xml"
        return len(parts) == 5 and parts[3] in (
            "entities", "events", "event-handlers", "behavior-flows")
    return False


def _lib(source: Source, folder: Path) -> None:
    """The lib/ modules beside a model.xml (and its templates/, reported)."""
    lib = folder / "lib"
    if lib.is_dir():
        for file in sorted(lib.glob("*.py")):
            source.lib[f"lib/{file.name}"] = file
    templates = folder / "templates"
    if templates.is_dir():
        for file in sorted(p for p in templates.rglob("*") if p.is_file()):
            rel = file.relative_to(folder).as_posix()
            source.skip(Location(rel), "template", f"template {rel}")


def _description(file: Path) -> str:
    md = file.with_name(file.name.removesuffix(".xml") + ".md")
    return _text(md) if md.is_file() else ""


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
