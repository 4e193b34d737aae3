"""Aggregates: their folders, root files (document fields, entities, business key) and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from draftsman_gen import ir
from draftsman_gen.diagnostics import Location
from draftsman_gen.loader import SourceFile, Workspace
from draftsman_gen.naming import camel_problem, pascal_problem
from draftsman_gen.pyexpr import analyze_code, mentions
from draftsman_gen.semantic.fields import FieldRules, assignable, check_fields, entity_compat
from draftsman_gen.semantic.sink import P, Sink, file_loc, hint, snippet_loc


@dataclass
class AggregateDraft:
    """An aggregate while it is being checked: its root file and its element files."""

    name: str
    subdomain: str
    folder: str
    root: SourceFile | None = None
    event_files: list[SourceFile] = field(default_factory=list)
    flow_files: list[SourceFile] = field(default_factory=list)
    fields: dict[str, ir.Field] = field(default_factory=dict)
    entities: dict[str, ir.Entity] = field(default_factory=dict)
    events: dict[str, ir.Event] = field(default_factory=dict)

    def document_names(self) -> dict[str, str]:
        """Document field name -> type ('Entity' for entity collections)."""
        names: dict[str, str] = {n: f.type for n, f in self.fields.items()}
        names.update({n: "Entity" for n in self.entities})
        return names


def collect(sink: Sink, ws: Workspace) -> dict[str, AggregateDraft]:
    """The aggregates, by name: every folder domain/<Subdomain>/<Aggregate> with a root.yaml."""
    folders: dict[str, AggregateDraft] = {}
    for source in ws.files:
        if source.kind not in ("aggregate", "event", "behavior-flow"):
            continue
        sub, name = source.parts[1], source.parts[2]
        folder = f"domain/{sub}/{name}"
        agg = folders.setdefault(folder, AggregateDraft(name, sub, folder))
        if source.kind == "aggregate":
            if agg.root is not None:
                sink.err(source.loc(), "DG303", f"aggregate '{name}' has two root files")
                continue
            agg.root = source
        elif source.kind == "event":
            agg.event_files.append(source)
        else:
            agg.flow_files.append(source)
    aggregates: dict[str, AggregateDraft] = {}
    for folder, agg in sorted(folders.items()):
        if agg.root is None and any(f"{folder}/root.y" in rel for rel in sink.broken):
            continue
        if agg.root is None:
            first = (agg.event_files + agg.flow_files)[0]
            sink.err(Location(first.rel), "DG308", f"{folder} has no root.yaml, so '{agg.name}' "
                     "is not an aggregate")
            continue
        if not sink.usable(agg.root):
            continue
        ok = sink.name_check(agg.root, agg.subdomain,
                             lambda n: _prefix("subdomain folder", pascal_problem(n)))
        ok &= sink.name_check(agg.root, agg.name,
                              lambda n: _prefix("aggregate folder", pascal_problem(n)))
        if not ok:
            continue
        if agg.name in aggregates:
            other = aggregates[agg.name]
            sink.err(agg.root.loc(), "DG303", f"aggregate '{agg.name}' is also defined in "
                     f"{other.folder}")
            continue
        aggregates[agg.name] = agg
    return aggregates


def _prefix(what: str, problem: str | None) -> str | None:
    return f"{what} {problem}" if problem else None


# -- root files ----------------------------------------------------------------------------
def check_root(sink: Sink, rules: FieldRules, agg: AggregateDraft) -> None:
    """Document fields, entity collections and the business key of one aggregate."""
    source = agg.root
    assert source is not None
    data = source.data
    agg.fields = check_fields(sink, rules, source, ("fields",), data["fields"], False)
    for name, spec in data.get("entities", {}).items():
        entity = _entity(sink, rules, source, name, spec)
        if entity is not None:
            agg.entities[name] = entity
    key = data["business-key"]
    if key not in agg.fields:
        sink.err(source.loc(("business-key",)), "DG314",
                 f"business key '{key}' is not a document field" + hint(key, agg.fields))
    elif agg.fields[key].type != "String":
        sink.err(source.loc(("business-key",)), "DG315",
                 f"business key '{key}' must be a String field, not {agg.fields[key].type}")


def _entity(sink: Sink, rules: FieldRules, source: SourceFile, name: str,
            spec: dict[str, Any]) -> ir.Entity | None:
    path: P = ("entities", name)
    if not sink.name_check(source, name, camel_problem, path, key=True):
        return None
    if name in source.data["fields"]:
        sink.err(source.loc(path, key=True), "DG303", f"'{name}' is both a field and an entity")
        return None
    efields = check_fields(sink, rules, source, path + ("fields",), spec["fields"], False)
    key = spec["business-key"]
    if key not in efields:
        sink.err(source.loc(path + ("business-key",)), "DG314",
                 f"entity business key '{key}' is not a field of '{name}'" + hint(key, efields))
        return None
    if efields[key].type != "String":
        sink.err(source.loc(path + ("business-key",)), "DG315",
                 f"entity business key '{key}' must be a String, not {efields[key].type}")
        return None
    return ir.Entity(name, key, tuple(efields.values()))


# -- events --------------------------------------------------------------------------------
def check_events(sink: Sink, rules: FieldRules, agg: AggregateDraft) -> None:
    """The domain events of one aggregate, each with its handler."""
    for source in sorted(agg.event_files, key=lambda s: s.rel):
        if not sink.usable(source) or not sink.name_check(source, source.stem, pascal_problem):
            continue
        name = source.stem
        fields = check_fields(sink, rules, source, ("fields",), source.data["fields"], True)
        handler = source.data["handler"]
        ops: tuple[ir.HandlerOp, ...] | ir.HandlerCode | None
        if "code" in handler:
            ops = _handler_code(sink, source, agg, fields)
        else:
            ops = tuple(_handler_ops(sink, source, agg, fields, handler["mapping"]))
        # Kept when its handler has an error (reported), so flows that emit it do not
        # report it again as unknown.
        agg.events[name] = ir.Event(name, agg.name, tuple(fields.values()),
                                    () if ops is None else ops, file_loc(source))


def _handler_code(sink: Sink, source: SourceFile, agg: AggregateDraft,
                  fields: dict[str, ir.Field]) -> ir.HandlerCode | None:
    path: P = ("handler", "code")
    analysis = analyze_code(source.data["handler"]["code"])
    if analysis.error:
        sink.err(snippet_loc(source, path, analysis.error_line), "DG311", analysis.error)
        return None
    doc = agg.document_names()
    for ref in analysis.refs:
        if ref.root == "document" and ref.attr not in doc:
            sink.err(snippet_loc(source, path, ref.line), "DG317",
                     f"'document.{ref.attr}' is not a field of {agg.name}" + hint(ref.attr, doc))
        elif ref.root == "event" and ref.attr not in fields:
            sink.err(snippet_loc(source, path, ref.line), "DG316",
                     f"'event.{ref.attr}' is not a field of {source.stem}" + hint(ref.attr, fields))
    line = snippet_loc(source, path, 1).line
    return ir.HandlerCode(analysis.text, line, mentions(analysis.text, "FunctionalError"))


def _handler_ops(sink: Sink, source: SourceFile, agg: AggregateDraft,
                 fields: dict[str, ir.Field],
                 mapping: dict[str, dict[str, str]]) -> list[ir.HandlerOp]:
    ops: list[ir.HandlerOp] = []
    for target, spec in mapping.items():
        path: P = ("handler", "mapping", target)
        ((op, value),) = spec.items()
        loc = source.loc(path + (op,))
        if target not in agg.fields and target not in agg.entities:
            sink.err(source.loc(path, key=True), "DG317", f"'{target}' is not a document field "
                     f"of {agg.name}" + hint(target, agg.document_names()))
            continue
        if value not in fields:
            sink.err(loc, "DG316", f"'{value}' is not a field of event {source.stem}"
                     + hint(value, fields))
            continue
        problem = _op_problem(agg, target, op, fields[value])
        if problem:
            sink.err(loc, "DG318", problem)
            continue
        where = ir.Loc(source.rel, loc.line)
        if op == "set":
            ops.append(ir.SetOp(target, value, where))
        elif op == "add":
            ops.append(ir.AddOp(target, value, where))
        elif op == "subtract":
            ops.append(ir.SubtractOp(target, value, where))
        elif op == "extend":
            ops.append(ir.ExtendOp(target, value, where))
        else:
            ops.append(ir.ReplaceOp(target, value, where))
    return ops


def _op_problem(agg: AggregateDraft, target: str, op: str, efield: ir.Field) -> str | None:
    if target in agg.entities:
        if op not in ("extend", "replace"):
            return f"entity collection '{target}' takes 'extend' or 'replace', not '{op}'"
        if efield.type != "ObjectList":
            return f"'{op}' needs an ObjectList event field; '{efield.name}' is {efield.type}"
        return entity_compat(agg.entities[target], efield)
    dtype = agg.fields[target].type
    if op in ("extend", "replace"):
        return f"'{op}' is for entity collections; '{target}' is a {dtype} field"
    if op in ("add", "subtract") and dtype not in ("Int", "Float"):
        return f"'{op}' needs a number field; '{target}' is {dtype}"
    if not assignable(efield.type, dtype):
        return f"cannot {op} {efield.type} field '{efield.name}' into {dtype} field '{target}'"
    return None


def check_source_names(sink: Sink, commands: dict[str, ir.Command],
                       aggregates: dict[str, AggregateDraft]) -> dict[str, str]:
    """Commands and domain events share one namespace, because triggers name them.
    Returns the owner aggregate of each domain event."""
    seen: dict[str, str] = {name: c.loc.file for name, c in commands.items()}
    owners: dict[str, str] = {}
    for agg in aggregates.values():
        for name, event in agg.events.items():
            if name in seen:
                sink.err(Location(event.loc.file), "DG303", f"'{name}' is already defined in "
                         f"{seen[name]}; command and event names must be unique")
            else:
                seen[name] = event.loc.file
                owners[name] = agg.name
    return owners
