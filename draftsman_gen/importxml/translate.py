"""Elements of a Draftsman XML model into YAML documents in this project's layout.

Each `_command`, `_aggregate`, `_event`, `_flow`, ... reads one element and returns the
document of one file. Values are converted where the conversion is certain; otherwise the
original text is kept, wrapped in `Marked` (the YAML gets a comment above it) and reported
(DG412). Attributes nobody reads are reported (DG411), except the modeler's `id`s."""

from __future__ import annotations

import ast
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from draftsman_gen.diagnostics import Diagnostic, Location
from draftsman_gen.importxml import expr
from draftsman_gen.importxml.source import NOT_IMPORTED, AggregateSource, Doc, Source
from draftsman_gen.importxml.xmltree import Node
from draftsman_gen.naming import default_graphql_name, snake

SCALARS = ("String", "Int", "Float", "Boolean", "StringList")
AUTHORIZATIONS = ("anonymous", "authenticated", "role")
IMPLICIT = ("version",)  # document fields the original keeps itself; dropped from test data


@dataclass(frozen=True)
class Marked:
    """A value kept as the original wrote it, because it could not be translated with
    certainty; the YAML writer puts `note` in a comment above it."""

    value: Any
    note: str


@dataclass
class OutFile:
    path: str  # relative to the output folder
    schema: str  # the schema's kind, for the modeline: "command", "aggregate", ...
    doc: dict[str, Any] | None = None  # a YAML document
    copy: Path | None = None  # or a file copied as it is (lib modules)
    where: Location = field(default_factory=lambda: Location(""))  # the element it comes from
    names: tuple[str, ...] = ()  # the source's names in `path` (checked before writing)


@dataclass
class Result:
    files: list[OutFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # not imported, by kind


class _Report:
    def __init__(self, diagnostics: list[Diagnostic], skipped: Counter[str]) -> None:
        self.items = diagnostics
        self.skipped = skipped

    def skip(self, where: Location, kind: str, message: str) -> None:
        self.skipped[kind] += 1
        self.warn(where, "DG410", message)

    def warn(self, where: Location, code: str, message: str) -> None:
        self.items.append(Diagnostic(where, code, message, "warning"))

    def mark(self, node: Node, what: str, value: str, why: str) -> Marked:
        self.warn(node.loc, "DG412", f"{what} {_short(value)} kept as written: {why}; finish "
                  "it by hand (marked `import-xml:` in the YAML)")
        return Marked(value, f"import-xml: {why}")

    def attributes(self, node: Node, known: Iterable[str]) -> None:
        allowed = set(known) | {"id"}
        for name in node.attrs:
            if name not in allowed:
                self.warn(node.loc, "DG411", f"attribute {name!r} of <{node.tag}> not "
                          "imported: this importer does not know it")

    def children(self, node: Node, known: Iterable[str]) -> None:
        allowed = set(known)
        for child in node.children:
            if child.tag not in allowed:
                self.warn(child.loc, "DG411", f"element <{child.tag}> in <{node.tag}> not "
                          "imported: this importer does not know it")


def translate(source: Source) -> Result:
    result = Result(diagnostics=list(source.diagnostics), skipped=Counter(source.skipped))
    report = _Report(result.diagnostics, result.skipped)
    modules = _lib_modules(source, report)
    fields = _source_fields(source)
    files = result.files
    files.append(_project(source, report))
    for folders, doc in source.commands:
        files.append(_command(folders, doc, source.form, report))
    for agg in source.aggregates.values():
        files.extend(_aggregate_files(agg, fields, modules, source, report))
    for doc in source.patterns:
        files.append(_pattern(doc, report))
    for doc in source.expressions:
        out = _expression(doc, report)
        if out is not None:
            files.append(out)
    for rel, path in sorted(source.lib.items()):
        files.append(OutFile(f"lib/{modules[rel]}.py", "", copy=path, where=Location(rel),
                             names=(modules[rel],)))
    return result


# -- project and lib ------------------------------------------------------------------------
def _project(source: Source, report: _Report) -> OutFile:
    doc: dict[str, Any] = {}
    root = source.project
    assert root is not None
    report.attributes(root, ["project-name"])
    raw = root.attrs.get("project-name", "")
    name = _pascal(raw) or "Imported"
    if name != raw:
        report.warn(root.loc, "DG414", f"project name {raw!r} is {name!r} here (project names "
                    "are PascalCase)")
    doc["name"] = name
    if source.description:
        doc["description"] = source.description
    dependencies = []
    for glob in root.kids("global"):
        for dep in glob.kids("dependency"):
            report.attributes(dep, ["name", "version"])
            version = dep.attrs.get("version", "").strip()
            requirement = dep.attrs.get("name", "").strip()
            if version:
                requirement += version if version[0] in "<>=!~" else f"=={version}"
            if requirement:
                dependencies.append(requirement)
    if dependencies:
        doc["dependencies"] = dependencies
    return OutFile("draftsman.yaml", "project", doc, where=root.loc)


def _lib_modules(source: Source, report: _Report) -> dict[str, str]:
    """lib/X.py -> the module name it gets here (snake_case)."""
    modules = {}
    for rel in sorted(source.lib):
        stem = rel.removeprefix("lib/").removesuffix(".py")
        module = _module(stem)
        if module != stem:
            report.warn(Location(rel), "DG414", f"lib module {stem!r} is {module!r} here (lib "
                        "modules are snake_case Python module names)")
        modules[rel] = module
    return modules


def _source_fields(source: Source) -> dict[str, list[str]]:
    """Every command's and domain event's field names (trigger mappings are checked
    against them to leave out mappings this language would make by itself)."""
    out: dict[str, list[str]] = {}
    nodes = [doc.node for _, doc in source.commands]
    nodes += [doc.node for agg in source.aggregates.values() for doc in agg.events]
    for node in nodes:
        out[node.attrs.get("name", "")] = [
            child.attrs.get("name", "") for child in node.children
            if child.tag in ("field", "nested-object")
        ]
    return out


# -- fields ---------------------------------------------------------------------------------
def _fields(node: Node, report: _Report, command: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node.children:
        name = child.attrs.get("name", "")
        if child.tag == "field":
            out[name] = _field(child, report, command)
        elif child.tag == "nested-object":
            report.attributes(child, ["name"])
            report.children(child, ["field"])
            out[name] = {"type": "ObjectList", "fields": _fields(child, report, command)}
    return out


def _field(node: Node, report: _Report, command: bool) -> Any:
    known = ["name", "type", "default"] + (["pattern", "auto-fill"] if command else [])
    report.attributes(node, known)
    kind = node.attrs.get("type", "String")
    spec: dict[str, Any] = {"type": kind if kind in SCALARS else report.mark(
        node, "field type", kind, f"{kind} is not a field type here ({', '.join(SCALARS)})")}
    if "default" in node.attrs:
        spec["default"] = _typed(node, kind, node.attrs["default"], report, "default")
    pattern = node.attrs.get("pattern", "")
    if pattern:
        match = re.fullmatch(r"\s*\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}\s*", pattern)
        spec["pattern"] = match.group(1) if match else report.mark(
            node, "pattern", pattern, "a field names a pattern of patterns/ here; write this "
            "regex as a pattern file and name it")
    fill = node.attrs.get("auto-fill", "")
    if fill:
        spec["auto-fill"] = fill if fill in ("uuid", "username") else report.mark(
            node, "auto-fill", fill, "auto-fill is uuid or username")
    return spec["type"] if len(spec) == 1 and isinstance(spec["type"], str) else spec


def _typed(node: Node, kind: str, text: str, report: _Report, what: str) -> Any:
    """A value written as text, converted by its field type (or kept and marked)."""
    try:
        if kind == "Int":
            return int(text.strip())
        if kind == "Float":
            value = float(text.strip())
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if kind == "Boolean":
            if text.strip().lower() not in ("true", "false"):
                raise ValueError(text)
            return text.strip().lower() == "true"
        if kind in ("StringList", "NestedObject", "ObjectList", "Nested"):
            value = json.loads(text) if text.strip() else []
            if not isinstance(value, list) or _too_deep(value):
                raise ValueError(text)
            return value
        return text
    except (ValueError, RecursionError):
        return report.mark(node, what, text, f"not a {kind} value")


# -- commands -------------------------------------------------------------------------------
def _command(folders: tuple[str, ...], doc: Doc, form: str, report: _Report) -> OutFile:
    node = doc.node
    report.attributes(node, ["name", "type", "graphql-namespace", "graphql-name",
                             "authorization", "role", "username-field", "source"])
    report.children(node, ["field", "nested-object"])
    name = node.attrs.get("name", "")
    given = node.attrs.get("graphql-namespace", "")
    if form == "v2":
        folders = tuple(part for part in given.split(".") if part)
    default_ns = "".join(folders) or "Service"
    out: dict[str, Any] = {}
    if doc.description:
        out["description"] = doc.description
    namespace = default_ns
    if given and given != default_ns:
        if "." in given:
            report.warn(node.loc, "DG414", f"GraphQL namespace {given!r} is {default_ns!r} "
                        "here (namespaces are one name; the original's dots are joined)")
        else:
            out["graphql-namespace"] = namespace = given
    graphql_name = node.attrs.get("graphql-name", "")
    if graphql_name and graphql_name != default_graphql_name(name, namespace):
        out["graphql-name"] = graphql_name
    _access(node, out, report)
    fields = _fields(node, report, command=True)
    filled = node.attrs.get("username-field", "")
    if filled:
        if filled in fields and _scalar_type(fields[filled]) == "String":
            spec = fields[filled]
            fields[filled] = {**spec, "auto-fill": "username"} if isinstance(spec, dict) \
                else {"type": "String", "auto-fill": "username"}
            report.warn(node.loc, "DG414", f"username-field {filled!r} is read as "
                        f"`auto-fill: username` on {filled!r} (the original's older form; "
                        "undocumented, so check it)")
        else:
            report.warn(node.loc, "DG411", f"username-field {filled!r} names no String field "
                        "of the command: not imported")
    out["fields"] = fields
    path = "/".join(["commands", *folders, f"{name}.yaml"])
    return OutFile(path, "command", out, where=node.loc, names=(*folders, name))


def _scalar_type(spec: Any) -> str:
    return spec if isinstance(spec, str) else str(spec.get("type", ""))


def _access(node: Node, out: dict[str, Any], report: _Report) -> None:
    mode = node.attrs.get("authorization", "")
    if mode and mode not in AUTHORIZATIONS:
        out["authorization"] = report.mark(node, "authorization", mode,
                                           "authorization is anonymous, authenticated or role")
        return
    if mode and mode != "authenticated":
        out["authorization"] = mode
    role = node.attrs.get("role", "")
    if mode == "role" and role:
        out["role"] = role if not expr.is_marked(role) else report.mark(
            node, "role", role, "a role computed by an ActorEventRole expression (VTL) has no "
            "equivalent here; name one role")
    elif role and mode != "role":
        report.warn(node.loc, "DG411", f"role {role!r} without authorization=\"role\": not "
                    "imported")


# -- aggregates -----------------------------------------------------------------------------
def _aggregate_files(agg: AggregateSource, fields: dict[str, list[str]],
                     modules: dict[str, str], source: Source, report: _Report) -> list[OutFile]:
    folder = f"domain/{agg.subdomain}/{agg.name}"
    files: list[OutFile] = []
    handlers = _handlers_by_event(agg, report)
    document: dict[str, Any] = {}
    if agg.root is None:
        report.warn(agg.where, "DG415", f"aggregate {agg.subdomain}/{agg.name} has no root "
                    "(root.xml): its events and flows are imported, its document is not")
    else:
        root_file = _root(agg, report)
        document = root_file.doc["fields"] if root_file.doc else {}
        files.append(root_file)
    for doc in agg.events:
        files.append(_event(folder, doc, handlers.pop(doc.node.attrs.get("name", ""), None),
                            report))
    for name, node in handlers.items():
        report.warn(node.loc, "DG415", f"event handler on {name!r}: {agg.name} has no such "
                    "domain event (an orphan, as after a deleted event); not imported")
    for doc in agg.flows:
        files.append(_flow(folder, doc, fields, modules, source, report))
    _implicit_fields(agg, document, files, report)
    return files


def _root(agg: AggregateSource, report: _Report) -> OutFile:
    assert agg.root is not None
    node = agg.root.node
    report.attributes(node, ["name", "business-key", "event-ttl", "snapshot-interval",
                             "backup-interval-days", "backup-ttl-days"])
    report.children(node, ["field", "nested-object", "event-handler", "command"])
    out: dict[str, Any] = {}
    if agg.root.description:
        out["description"] = agg.root.description
    out["business-key"] = node.attrs.get("business-key", "")
    out["fields"] = {
        child.attrs.get("name", ""): _field(child, report, command=False)
        for child in node.kids("field")
    }
    entities = {}
    for entity in agg.entities:
        report.attributes(entity, ["name", "business-key"])
        report.children(entity, ["field"])
        entities[entity.attrs.get("name", "")] = {
            "business-key": entity.attrs.get("business-key", ""),
            "fields": {f.attrs.get("name", ""): _field(f, report, command=False)
                       for f in entity.kids("field")},
        }
    if entities:
        out["entities"] = entities
    for key, default in (("event-ttl", -1), ("snapshot-interval", 100),
                         ("backup-interval-days", 0), ("backup-ttl-days", 0)):
        if key in node.attrs:
            value = _typed(node, "Int", node.attrs[key], report, key)
            if value != default:
                out[key] = value
    return OutFile(f"domain/{agg.subdomain}/{agg.name}/root.yaml", "aggregate", out,
                   where=node.loc, names=(agg.subdomain, agg.name))


def _implicit_fields(agg: AggregateSource, document: dict[str, Any], files: list[OutFile],
                     report: _Report) -> None:
    """The original's documents have an implicit `isDeleted`; declare it when code uses it."""
    if "isDeleted" in document or agg.root is None:
        return
    texts = [str(v) for f in files if f.doc for v in _strings(f.doc)]
    if any("isDeleted" in text for text in texts):
        document["isDeleted"] = "String"
        report.warn(agg.root.node.loc, "DG414", f"{agg.name} declares the document field "
                    "isDeleted (String), which the original's documents have implicitly and "
                    "this model's code uses; soft-deleted instances are not hidden here")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Marked):
        yield from _strings(value.value)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# -- domain events and their handlers -------------------------------------------------------
def _handlers_by_event(agg: AggregateSource, report: _Report) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for node in agg.handlers:
        name = node.attrs.get("on", "")
        if name in out:
            report.warn(node.loc, "DG415", f"a second event handler on {name!r}: not imported")
            continue
        out[name] = node
    return out


def _event(folder: str, doc: Doc, handler: Node | None, report: _Report) -> OutFile:
    node = doc.node
    report.attributes(node, ["name", "type", "source"])
    report.children(node, ["field", "nested-object"])
    name = node.attrs.get("name", "")
    out: dict[str, Any] = {}
    if doc.description:
        out["description"] = doc.description
    out["fields"] = _fields(node, report, command=False)
    out["handler"] = _handler(handler, report) if handler is not None else {"mapping": {}}
    return OutFile(f"{folder}/events/{name}.yaml", "event", out, where=node.loc,
                   names=(*folder.split("/")[1:], name))


def _handler(node: Node, report: _Report) -> dict[str, Any]:
    report.attributes(node, ["on", "code"])
    if "code" in node.attrs:
        report.children(node, [])
        code = expr.handler_code(node.attrs["code"])
        if code is None:
            return {"code": report.mark(node, "handler code", expr.lines(node.attrs["code"]),
                                        "it does not parse as Python")}
        return {"code": code}
    report.children(node, ["mapping", "nested-mapping"])
    mapping: dict[str, Any] = {}
    for child in node.children:
        target = child.attrs.get("target", "")
        if child.tag == "mapping":
            mapping[target] = _handler_mapping(child, report)
        elif child.tag == "nested-mapping":
            mapping[target] = _nested_mapping(child, report)
    return {"mapping": mapping}


def _handler_mapping(node: Node, report: _Report) -> Any:
    report.attributes(node, ["target", "operand", "value"])
    operand = node.attrs.get("operand", "set")
    value = node.attrs.get("value", "")
    if operand not in ("set", "add", "subtract"):
        return report.mark(node, "operand", operand, "a handler mapping is set, add or subtract")
    if not value.isidentifier():
        return {operand: report.mark(node, "value", value, "a handler mapping reads one event "
                                     "field; use a code handler for expressions")}
    return {operand: value}


def _nested_mapping(node: Node, report: _Report) -> Any:
    report.attributes(node, ["source", "target", "business-key", "strategy"])
    report.children(node, ["mapping"])
    target = node.attrs.get("target", "")
    source = node.attrs.get("source", "") or target
    strategy = node.attrs.get("strategy", "") or "extend"
    if strategy not in ("extend", "replace"):
        return report.mark(node, "strategy", strategy, "a nested mapping is extend or replace")
    renamed = [
        f"{m.attrs.get('target', '')} <- {m.attrs.get('value', '')}"
        for m in node.kids("mapping")
        if m.attrs.get("target") != m.attrs.get("value")
        or m.attrs.get("operand", "set") != "set"
    ]
    if renamed:
        return {strategy: report.mark(node, "nested mapping", ", ".join(renamed),
                                      f"{strategy} copies item fields by name; mappings that "
                                      "rename or compute need a code handler")}
    return {strategy: source}


# -- behavior flows -------------------------------------------------------------------------
def _flow(folder: str, doc: Doc, fields: dict[str, list[str]], modules: dict[str, str],
          source: Source, report: _Report) -> OutFile:
    node = doc.node
    report.attributes(node, ["name", "create-command", "reactivate-command"])
    report.children(node, ["trigger", "processor", "test-case"])
    name = node.attrs.get("name", "")
    out: dict[str, Any] = {}
    if doc.description:
        out["description"] = doc.description
    if node.attrs.get("create-command", "false") == "true":
        out["create-command"] = True
    if node.attrs.get("reactivate-command", "false") in ("true", "optional"):
        report.skip(node.loc, "reactivate-command", "reactivate-command not imported: this language has "
                    "no soft delete, so every flow acts on any existing instance")
    out["triggers"] = [_trigger(t, fields, report) for t in node.kids("trigger")]
    processors = [_processor(p, modules, source, report) for p in node.kids("processor")]
    out["processors"] = [p for p in processors if p is not None]
    out["test-cases"] = [_test_case(t, report) for t in node.kids("test-case")]
    return OutFile(f"{folder}/behavior-flows/{name}.yaml", "behavior-flow", out,
                   where=node.loc, names=(*folder.split("/")[1:], name))


def _trigger(node: Node, fields: dict[str, list[str]], report: _Report) -> dict[str, Any]:
    report.attributes(node, ["source", "key-field", "idempotency-key", "idempotency-ttl"])
    report.children(node, ["mapping"])
    source = node.attrs.get("source", "")
    out: dict[str, Any] = {"source": source}
    if source == "FileUploaded":
        report.skip(node.loc, "file-uploaded", f"the trigger on FileUploaded not imported: "
                    f"{NOT_IMPORTED['file-uploaded']}")
    key = node.attrs.get("key-field", "")
    if key and not expr.is_marked(key):
        out["key-field"] = key
    elif key:
        translated = expr.expression(key, "event")
        out["key-expression"] = translated if translated is not None else report.mark(
            node, "key-field", key, "the key expression is not certain Python over `event`")
    mapping: dict[str, Any] = {}
    identity = True
    for child in node.kids("mapping"):
        report.attributes(child, ["target", "value"])
        target, value = child.attrs.get("target", ""), child.attrs.get("value", "")
        if not expr.is_marked(value) and value.isidentifier():
            mapping[target] = value
            identity = identity and target == value
            continue
        identity = False
        translated = expr.expression(value, "event")
        if translated is None:
            mapping[target] = report.mark(child, "mapping value", value,
                                          "not certain Python over `event`")
        elif translated.startswith("event.") and translated[6:].isidentifier():
            mapping[target] = translated[6:]
        else:
            mapping[target] = translated
    if mapping and not (identity and sorted(mapping) == sorted(fields.get(source, []))):
        out["mapping"] = mapping
    idempotency = node.attrs.get("idempotency-key", "").split()
    if idempotency:
        out["idempotency-key"] = idempotency
    ttl = node.attrs.get("idempotency-ttl", "").strip()
    if ttl and not idempotency:
        report.warn(node.loc, "DG411", "idempotency-ttl without idempotency-key not imported: "
                    "there is nothing to remember")
    if ttl and idempotency:
        seconds = expr.arithmetic(ttl)
        out["idempotency-ttl"] = seconds if seconds is not None else report.mark(
            node, "idempotency-ttl", ttl, "not a whole number of seconds in arithmetic")
    return out


_PROCESSOR_ATTRIBUTES = {
    "validator": ["condition", "exception"],
    "set-variable": ["name", "expression"],
    "code": ["code", "file", "handler"],
    "emit-event": ["ref"],
    "update-key": ["key"],
}


def _processor(node: Node, modules: dict[str, str], source: Source,
               report: _Report) -> dict[str, Any] | None:
    kind = node.attrs.get("type", "")
    if kind not in _PROCESSOR_ATTRIBUTES:
        report.skip(node.loc, "processor", f"processor of type {kind!r} not imported: this "
                    "language has validator, set-variable, code, emit-event and update-key")
        return None
    report.attributes(node, ["type", *_PROCESSOR_ATTRIBUTES[kind]])
    report.children(node, ["mapping"] if kind == "emit-event" else [])
    attrs = node.attrs
    if kind == "validator":
        return {"validator": {"condition": _flow_expression(node, "condition", report),
                              "exception": attrs.get("exception", "")}}
    if kind == "set-variable":
        return {"set-variable": {"name": attrs.get("name", ""),
                                 "expression": _flow_expression(node, "expression", report)}}
    if kind == "update-key":
        return {"update-key": {"expression": _flow_expression(node, "key", report)}}
    if kind == "emit-event":
        mapping = {}
        for child in node.kids("mapping"):
            report.attributes(child, ["target", "value"])
            mapping[child.attrs.get("target", "")] = _emit_value(child, report)
        return {"emit-event": {"ref": attrs.get("ref", ""), "mapping": mapping}}
    return {"code": _code(node, modules, source, report)}


def _flow_expression(node: Node, key: str, report: _Report) -> Any:
    text = node.attrs.get(key, "")
    translated = expr.expression(text, "flow")
    if translated is None:
        return report.mark(node, key, text, "it does not parse as a Python expression")
    return translated


def _emit_value(node: Node, report: _Report) -> Any:
    value = node.attrs.get("value", "")
    if not expr.is_marked(value) and value.isidentifier():
        report.warn(node.loc, "DG412", f"emit-event value {value!r} has no `#`: read as the "
                    f"flow variable flow.{value}; check it")
        return f"flow.{value}"
    translated = expr.expression(value, "flow")
    if translated is None:
        return report.mark(node, "emit-event value", value,
                           "it does not parse as a Python expression")
    return translated


def _code(node: Node, modules: dict[str, str], source: Source, report: _Report) -> Any:
    attrs = node.attrs
    if "code" in attrs:
        code = expr.flow_code(attrs["code"])
        if code is None:
            return {"inline": report.mark(node, "code", expr.lines(attrs["code"]),
                                          "it does not parse as Python")}
        return {"inline": code}
    file, handler = attrs.get("file", ""), attrs.get("handler", "")
    rel = file if file.startswith("lib/") else f"lib/{file}"
    rel = rel if rel.endswith(".py") else f"{rel}.py"
    module = modules.get(rel)
    if module is None:
        stem = rel.removeprefix("lib/").removesuffix(".py")
        report.warn(node.loc, "DG413", f"library module {file!r} is missing from the source "
                    f"(no {rel}); copy it into lib/ of the imported model (no stub is written)")
        module = _module(stem)
    elif not _defines(source.lib[rel], handler):
        report.warn(node.loc, "DG413", f"{rel} has no top-level function {handler!r}; write "
                    f"`def {handler}(flow):` there (no stub is written)")
    return {"file": module, "handler": handler}


def _module(stem: str) -> str:
    """A lib file's module name here: snake_case, starting with a letter (`Iban` -> `iban`,
    `my-module` -> `my_module`)."""
    name = re.sub(r"[^a-z0-9_]+", "_", snake(stem).lower()).strip("_")
    return name if name[:1].isalpha() else f"lib_{name}"


def _defines(path: Path, function: str) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function
               for n in tree.body)


# -- test cases -----------------------------------------------------------------------------
def _test_case(node: Node, report: _Report) -> dict[str, Any]:
    report.attributes(node, ["name", "trigger-event", "expected-processing-status"])
    report.children(node, ["input", "state", "expected", "expected-state"])
    out: dict[str, Any] = {"name": node.attrs.get("name", ""),
                           "trigger-event": node.attrs.get("trigger-event", "")}
    states = node.kids("state")
    if states:
        given = _json_object(states[0], report, "state")
        if given:
            out["state"] = given
    inputs = {}
    for item in node.kids("input"):
        report.attributes(item, ["name", "type", "value"])
        text = item.attrs.get("value", item.text)
        if item.attrs.get("type") == "NestedObject" and "value" not in item.attrs:
            text = item.text
        inputs[item.attrs.get("name", "")] = _typed(item, item.attrs.get("type", "String"),
                                                    text, report, "input")
    out["input"] = inputs
    expected = []
    for item in node.kids("expected"):
        report.attributes(item, ["domain-event"])
        report.children(item, ["field"])
        values = {}
        for f in item.kids("field"):
            report.attributes(f, ["name", "type", "value"])
            values[f.attrs.get("name", "")] = _typed(f, f.attrs.get("type", "String"),
                                                     f.attrs.get("value", f.text), report,
                                                     "expected value")
        event: dict[str, Any] = {"event": item.attrs.get("domain-event", "")}
        if values:
            event["fields"] = values
        expected.append(event)
    status = node.attrs.get("expected-processing-status", "") or (
        "success" if expected else "error")
    if status == "error" and expected:
        report.warn(node.loc, "DG412", "expected-processing-status error with expected events: "
                    "imported as both; `validate` asks for one (DG332)")
    if status == "success" and not expected and not node.kids("expected-state"):
        report.warn(node.loc, "DG412", "expected-processing-status success with nothing "
                    "expected: the case would check nothing; `validate` asks for an expectation "
                    "(DG332)")
    if status == "error":
        # The XML keeps no message: "" expects any functional error (docs/import-xml.md).
        out["expected-error"] = ""
    if expected:
        out["expected"] = expected
    for item in node.kids("expected-state"):
        report.attributes(item, ["pk"])
        state = _json_object(item, report, "expected-state")
        pk = item.attrs.get("pk", "")
        if pk or state:
            out["expected-state"] = {"pk": pk, "state": state} if pk else {"state": state}
    return out


def _json_object(node: Node, report: _Report, what: str) -> Any:
    text = node.text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return report.mark(node, what, text, "not a JSON object")
    if not isinstance(value, dict) or _too_deep(value):
        return report.mark(node, what, text, "not a JSON object (of at most 20 levels)")
    return {k: v for k, v in value.items() if k not in IMPLICIT}


def _too_deep(value: Any, limit: int = 20) -> bool:
    """Test data nested deeper than any document can be (checked without recursion)."""
    level = [value]
    for _ in range(limit):
        level = [item for v in level
                 for item in (v.values() if isinstance(v, dict) else v if isinstance(v, list)
                              else ())]
        if not level:
            return False
    return True


# -- patterns and expressions ---------------------------------------------------------------
def _pattern(doc: Doc, report: _Report) -> OutFile:
    node = doc.node
    report.attributes(node, ["name", "regex"])
    regex = node.attrs.get("regex", "")
    regex = regex.removeprefix("^")
    if regex.endswith("$") and not regex.endswith("\\$"):
        regex = regex[:-1]
    out: dict[str, Any] = {}
    if doc.description:
        out["description"] = doc.description
    out["regex"] = regex
    name = node.attrs.get("name", "")
    return OutFile(f"patterns/{name}.yaml", "pattern", out, where=node.loc, names=(name,))


def _expression(doc: Doc, report: _Report) -> OutFile | None:
    node = doc.node
    report.attributes(node, ["name", "type", "input", "expression"])
    name, kind = node.attrs.get("name", ""), node.attrs.get("type", "TriggerKeyField")
    if kind != "TriggerKeyField":
        report.skip(node.loc, "role-expression", f"expression {name!r} of type {kind} not imported: "
                    "ActorEventRole expressions are VTL for AppSync; this language names one "
                    "role per command")
        return None
    out: dict[str, Any] = {}
    if doc.description:
        out["description"] = doc.description
    out["parameters"] = [p.strip() for p in node.attrs.get("input", "").split(";") if p.strip()]
    text = node.attrs.get("expression", "")
    translated = expr.expression(text, "flow")
    out["expression"] = translated if translated is not None else report.mark(
        node, "expression", text, "it does not parse as a Python expression")
    return OutFile(f"expressions/{name}.yaml", "expression", out, where=node.loc,
                   names=(name,))


def _short(value: str, limit: int = 80) -> str:
    """A value for a message: quoted, and cut when long (a report line stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value):,} characters)"


def _pascal(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    return "".join(w[:1].upper() + w[1:] for w in words if w)
