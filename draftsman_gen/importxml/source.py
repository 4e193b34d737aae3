"""Find the format of an import source and gather its elements by kind.

Two formats (see docs/import-xml.md): the older monolithic `model.xml` (v2) and the newer
per-file repository with a `config.xml` at its root (v3/v4). Both end up as one `Source`, so
that translation does not care which it came from. What the model language has no place for
(views, projections, notifiers, scenarios, templates, roles, deleted events) is reported
here, one warning per element or file."""

from __future__ import annotations

import os
import stat
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
    "scenario-settings": "functional scenarios run against a deployed stack; this language "
    "tests flows with test cases",
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


MAX_TEXT = 1024 * 1024  # lib modules and descriptions: as the compiler's limit for files
_V2_CHILDREN = {"global": ["pattern", "expression", "dependency"], "events": ["event"],
                "domain": ["subdomain"], "views": ["view"], "projections": ["projection"],
                "notifiers": ["notifier"], "functional-scenarios": ["scenario"]}


def gather(path: Path) -> Source:
    """The elements of the model at `path`: a model.xml file or a repository folder."""
    if path.is_file() and path.name == "config.xml":  # the repository, named by its config
        return _v4(path.parent)
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
    root = read(file, rel, source.diagnostics)
    if isinstance(root, Diagnostic):
        source.diagnostics.append(root)
        return None
    if root.tag != "draftsman":
        source.error(root.loc, "DG403", f"the root element of {rel} is <{root.tag}>, not "
                     "<draftsman>: not a Draftsman model")
        return None
    source.project = root
    return root


def _known(source: Source, node: Node, children: list[str], attributes: list[str]) -> None:
    """Report the children and attributes of `node` that nothing reads."""
    for name in node.attrs:
        if name not in attributes and name != "id":
            source.warn(node.loc, "DG411", f"attribute {name!r} of <{node.tag}> not imported: "
                        "this importer does not know it")
    for child in node.children:
        if child.tag not in children:
            source.warn(child.loc, "DG411", f"element <{child.tag}> in <{node.tag}> not "
                        "imported: this importer does not know it")


def _v2(file: Path, rel: str, folder: Path) -> Source:
    source = Source("v2")
    root = _project(source, file, rel)
    if root is None:
        return source
    _known(source, root, list(_V2_CHILDREN), ["project-name"])
    for child in root.children:
        if child.tag in _V2_CHILDREN and child.tag != "functional-scenarios":
            _known(source, child, _V2_CHILDREN[child.tag], [])
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
            source.skip(child.loc, "scenario-settings", "the functional-scenarios settings")
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
        _known(source, subdomain, ["aggregate"], ["name"])
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
    _known(source, config, ["global", "functional-scenarios", "events"], ["project-name"])
    for child in config.children:
        if child.tag == "global":
            _known(source, child, ["dependency"], [])
        elif child.tag == "functional-scenarios":
            source.skip(child.loc, "scenario-settings", "the functional-scenarios settings")
        elif child.tag == "events":
            for event in child.kids("event"):
                if event.attrs.get("name") == "FileUploaded":
                    source.skip(event.loc, "file-uploaded", "the event FileUploaded")
                else:
                    source.warn(event.loc, "DG411", f"event {event.attrs.get('name', '')!r} "
                                "in config.xml: not imported")
    source.description = _text(repo / "README.md")
    for file in _walk(source, repo):
        _v4_file(source, repo, file, file.relative_to(repo))
    return source


def _walk(source: Source, top: Path) -> list[Path]:
    """The regular files under `top`, in order, skipping hidden ones. Symbolic links are not
    followed (they could point anywhere on the machine) and, like FIFOs and devices, are
    reported instead of read."""
    found = []
    for folder, dirs, files in os.walk(top, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs):
            if not name.startswith(".") and (here / name).is_symlink():
                _not_regular(source, here / name, top)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if name.startswith("."):
                continue
            if _regular(path):
                found.append(path)
            else:
                _not_regular(source, path, top)
    return sorted(found)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _not_regular(source: Source, path: Path, top: Path) -> None:
    what = "a symbolic link" if path.is_symlink() else "not a regular file"
    source.warn(Location(path.relative_to(top).as_posix()), "DG411",
                f"{what}: not read (the importer reads only regular files in the source)")


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
        _add_lib(source, file, rel.as_posix())
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
    node = read(file, rel.as_posix(), source.diagnostics)
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
    if lib.is_dir() and not lib.is_symlink():
        for file in _walk(source, lib):
            if file.parent == lib and file.suffix == ".py":
                _add_lib(source, file, f"lib/{file.name}")
    templates = folder / "templates"
    if templates.is_dir() and not templates.is_symlink():
        for file in _walk(source, templates):
            rel = file.relative_to(folder).as_posix()
            source.skip(Location(rel), "template", f"template {rel}")


def _add_lib(source: Source, file: Path, rel: str) -> None:
    """A lib module to copy, if it is one: Python text of at most 1 MB."""
    if file.name == "__init__.py":
        source.warn(Location(rel), "DG411", "lib/__init__.py not copied: the generated "
                    "package's lib has its own")
        return
    try:
        data = file.read_bytes() if file.stat().st_size <= MAX_TEXT else None
        if data is not None:
            data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        data = None
    if data is None:
        source.warn(Location(rel), "DG411", "lib module not copied: not UTF-8 Python text of "
                    "at most 1 MB")
        return
    source.lib[rel] = file


def _description(file: Path) -> str:
    return _text(file.with_name(file.name.removesuffix(".xml") + ".md"))


def _text(path: Path) -> str:
    """A Markdown description beside an element, if it is a regular file of UTF-8 text."""
    if not _regular(path):
        return ""
    try:
        if path.stat().st_size > MAX_TEXT:
            return ""
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
