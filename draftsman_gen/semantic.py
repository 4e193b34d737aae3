"""Stage 2b: semantic rules over schema-valid files; on success, the IR.

Rules run file by file in a fixed order so diagnostics are deterministic. A file that failed
its schema is skipped, and references to elements defined in such a file are not reported
again (one mistake, one message).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from draftsman_runtime.pattern import Pattern, PatternError
from draftsman_runtime.pattern import compile as compile_pattern

from draftsman_gen import grammar, ir
from draftsman_gen.diagnostics import Diagnostics, Location
from draftsman_gen.grammar import Scope
from draftsman_gen.infer import Env, assignable, assigned_types, expression_type
from draftsman_gen.loader import SourceFile, Workspace
from draftsman_gen.naming import (
    RESERVED_MODULES,
    RESERVED_VARIABLES,
    camel_problem,
    module_problem,
    pascal_problem,
    snake,
)
from draftsman_gen.pyexpr import (
    Analysis,
    analyze_code,
    analyze_expression,
    function_parameters,
    message_template,
)

P = tuple[str | int, ...]
DEFAULT_TTL = -1
DEFAULT_SNAPSHOT_INTERVAL = 100


@dataclass
class _Aggregate:
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


class Checker:
    def __init__(self, ws: Workspace, diags: Diagnostics, broken: set[str]) -> None:
        self.ws = ws
        self.diags = diags
        self.broken = broken
        self.patterns: dict[str, ir.Pattern] = {}
        self.broken_names: set[str] = set()  # names defined in files that failed the schema
        self.expressions: dict[str, ir.KeyExpression] = {}
        self.commands: dict[str, ir.Command] = {}
        self.aggregates: dict[str, _Aggregate] = {}
        self.event_owner: dict[str, str] = {}  # event name -> aggregate name
        self.lib: dict[str, SourceFile] = {}
        self.error_count_at_start = len(diags)

    # -- helpers -------------------------------------------------------------------------
    def err(self, loc: Location, code: str, message: str) -> None:
        self.diags.error(loc, code, message)

    def usable(self, source: SourceFile) -> bool:
        return source.rel not in self.broken

    def name_check(self, source: SourceFile, name: str, rule: Callable[[str], str | None],
                   path: P = (), key: bool = False) -> bool:
        problem = rule(name)
        if problem:
            self.err(source.loc(path, key=key), "DG301", problem)
            return False
        return True

    def snippet_loc(self, source: SourceFile, path: P, line: int) -> Location:
        """The model location of line `line` (1-based) of a snippet stored at `path`."""
        base = source.loc(path)
        if _is_block(source, path):
            # A block scalar's text starts on the line after its `|` or `>` indicator.
            return Location(base.file, base.line + line, 1)
        if line > 1:
            return Location(base.file, base.line + line - 1, 1)
        return base

    # -- entry ---------------------------------------------------------------------------
    def run(self) -> ir.Model | None:
        project = self.check_project()
        self.collect_broken_names()
        self.check_lib()
        self.check_patterns()
        self.check_expressions()
        self.check_commands()
        self.collect_aggregates()
        for agg in self.aggregates.values():
            self.check_aggregate_root(agg)
        for agg in self.aggregates.values():
            self.check_events(agg)
        self.check_source_names()
        flows: dict[str, list[ir.Flow]] = {}
        for agg in self.aggregates.values():
            flows[agg.name] = self.check_flows(agg)
        if len(self.diags) > self.error_count_at_start or self.broken or project is None:
            return None
        return self.build_model(project, flows)

    # -- project -------------------------------------------------------------------------
    def check_project(self) -> tuple[str, str, str, tuple[str, ...]] | None:
        files = self.ws.of_kind("project")
        if not files or not self.usable(files[0]):
            return None
        source = files[0]
        data = source.data
        name = data["name"]
        ok = self.name_check(source, name, pascal_problem, ("name",))
        package = data.get("package", snake(name))
        problem = module_problem(package)
        if problem:
            where = ("package",) if "package" in data else ("name",)
            self.err(source.loc(where), "DG301", f"package name {problem.split(' must')[0]} "
                     "must be a snake_case Python module name")
            ok = False
        deps = tuple(data.get("dependencies", []))
        for i, dep in enumerate(deps):
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\], <>=!~;'\"]*$", dep) or "\n" in dep:
                self.err(source.loc(("dependencies", i)), "DG302",
                         f"'{dep}' is not a valid pip requirement")
                ok = False
        return (name, package, data.get("description", ""), deps) if ok else None

    def collect_broken_names(self) -> None:
        for rel in self.broken:
            parts = Path(rel).parts
            self.broken_names.add(Path(rel).stem)
            if len(parts) == 4 and parts[0] == "domain":
                self.broken_names.add(parts[2])

    # -- lib modules ---------------------------------------------------------------------
    def check_lib(self) -> None:
        for source in self.ws.of_kind("lib"):
            name = source.stem
            if not self.name_check(source, name, module_problem):
                continue
            analysis = analyze_code(source.text)
            if analysis.error:
                self.err(Location(source.rel, analysis.error_line, 1), "DG311", analysis.error)
                continue
            self.lib[name] = source

    # -- patterns ------------------------------------------------------------------------
    def check_patterns(self) -> None:
        raw: dict[str, SourceFile] = {}
        for source in self.ws.of_kind("pattern"):
            if self.usable(source) and self.name_check(source, source.stem, pascal_problem):
                if source.stem in raw:
                    self.err(source.loc(), "DG303", f"duplicate pattern '{source.stem}'")
                    continue
                raw[source.stem] = source
        for name, source in sorted(raw.items()):
            expanded = self._expand_pattern(name, raw, [])
            if expanded is None:
                self.broken_names.add(name)
                continue
            try:
                Pattern(expanded)  # the runtime's linear-time engine: what will run the pattern
            except PatternError as exc:
                self.err(source.loc(("regex",)), "DG304",
                         f"pattern '{name}' is not a supported regular expression: {exc}")
                self.broken_names.add(name)
                continue
            self.patterns[name] = ir.Pattern(name, expanded, _loc(source))

    def _expand_pattern(self, name: str, raw: dict[str, SourceFile], stack: list[str]) -> str | None:
        source = raw[name]
        if name in stack:
            cycle = " -> ".join(stack[stack.index(name):] + [name])
            self.err(source.loc(("regex",)), "DG304", f"patterns refer to each other in a cycle: {cycle}")
            return None
        text: str = source.data["regex"]
        out = []
        pos = 0
        for match in re.finditer(r"\{\{([^{}]*)\}\}", text):
            out.append(text[pos:match.start()])
            pos = match.end()
            ref = match.group(1).strip()
            if ref not in raw:
                if ref not in self.broken_names:
                    self.err(source.loc(("regex",)), "DG305", f"unknown pattern '{ref}' in {{{{{ref}}}}}")
                return None
            inner = self._expand_pattern(ref, raw, stack + [name])
            if inner is None:
                return None
            out.append(f"(?:{_without_anchors(inner)})")
        out.append(text[pos:])
        return "".join(out)

    # -- named key expressions -----------------------------------------------------------
    def check_expressions(self) -> None:
        for source in self.ws.of_kind("expression"):
            if not self.usable(source) or not self.name_check(source, source.stem, camel_problem):
                continue
            params = source.data.get("parameters", [])
            ok = True
            for i, param in enumerate(params):
                ok &= self.name_check(source, param, camel_problem, ("parameters", i))
            if len(set(params)) != len(params):
                self.err(source.loc(("parameters",)), "DG303", "duplicate parameter name")
                ok = False
            scope = Scope(frozenset(params), frozenset(), frozenset())
            analysis = self.expression(source, ("expression",), source.data["expression"], scope)
            if analysis is None or not ok:
                continue
            if source.stem in self.expressions:
                self.err(source.loc(), "DG303", f"duplicate key expression '{source.stem}'")
                continue
            self.expressions[source.stem] = ir.KeyExpression(
                source.stem, tuple(params), analysis.text, _loc(source))

    def expression(self, source: SourceFile, path: P, text: Any, scope: Scope) -> Analysis | None:
        """Parse an expression and check it against the grammar; None when it has an error."""
        if not isinstance(text, str):
            text = repr(text)  # a literal number or boolean written without quotes
        analysis = analyze_expression(text)
        if analysis.error:
            self.err(self.snippet_loc(source, path, analysis.error_line), "DG311", analysis.error)
            return None
        violations = grammar.check(ast.parse(analysis.text, mode="eval"), scope)
        for v in violations:
            known = scope.roots | scope.functions | grammar.BUILTINS
            hint = _hint(v.name, known) if v.name else ""
            self.err(self.snippet_loc(source, path, v.line), v.code, v.message + hint)
        return None if violations else analysis

    @functools.cached_property
    def declared_names(self) -> frozenset[str]:
        """Every field name of the model, and the flow's `entity` and `identity`: the only
        attributes an expression may read (besides flow variables)."""
        names = {"entity", "identity"}
        fields = [f for c in self.commands.values() for f in c.fields]
        for agg in self.aggregates.values():
            fields += agg.fields.values()
            fields += [f for e in agg.entities.values() for f in e.fields]
            fields += [f for e in agg.events.values() for f in e.fields]
            names.update(agg.entities)
        names.update(f.name for f in fields)
        names.update(x.name for f in fields for x in f.fields)  # ObjectList items
        return frozenset(names)

    # -- fields --------------------------------------------------------------------------
    def fields(self, source: SourceFile, path: P, data: dict[str, Any], owner: str,
               allow_nested: bool) -> dict[str, ir.Field]:
        """Check field definitions. Every field is returned, also one with a reported problem,
        so that references to it do not produce follow-up errors."""
        result: dict[str, ir.Field] = {}
        for name, spec in data.items():
            fpath = path + (name,)
            self.name_check(source, name, camel_problem, fpath, key=True)
            if isinstance(spec, str):
                spec = {"type": spec}
            result[name] = self.field(source, fpath, name, spec, owner, allow_nested)
        return result

    def field(self, source: SourceFile, fpath: P, name: str, spec: dict[str, Any], owner: str,
              allow_nested: bool) -> ir.Field:
        ftype = spec["type"]
        nested: tuple[ir.Field, ...] = ()
        item_class = ""
        if ftype == "ObjectList":
            if not allow_nested:
                self.err(source.loc(fpath), "DG306", "ObjectList cannot be nested in another ObjectList")
            elif "fields" not in spec:
                self.err(source.loc(fpath), "DG306", f"ObjectList field '{name}' needs 'fields'")
            else:
                nested = tuple(self.fields(source, fpath + ("fields",), spec["fields"], owner,
                                           False).values())
            item_class = owner + name[0].upper() + name[1:] + "Item"
        elif "fields" in spec:
            self.err(source.loc(fpath + ("fields",), key=True), "DG306",
                     f"'fields' is only allowed on ObjectList fields, not on {ftype}")
        pattern = spec.get("pattern")
        if pattern is not None and pattern not in self.patterns:
            if pattern not in self.broken_names:
                self.err(source.loc(fpath + ("pattern",)), "DG305", f"unknown pattern '{pattern}'"
                         + _hint(pattern, self.patterns))
            pattern = None
        if pattern is not None and ftype != "String":
            self.err(source.loc(fpath + ("pattern",)), "DG306", "a pattern needs a String field")
        if spec.get("auto-fill") and ftype != "String":
            self.err(source.loc(fpath + ("auto-fill",)), "DG306", "auto-fill needs a String field")
        has_default = "default" in spec
        default = spec.get("default")
        if has_default:
            problem = value_problem(default, ftype, nested)
            if problem:
                self.err(source.loc(fpath + ("default",)), "DG307", f"default of '{name}': {problem}")
            elif pattern and not compile_pattern(self.patterns[pattern].regex).fullmatch(str(default)):
                self.err(source.loc(fpath + ("default",)), "DG307",
                         f"default of '{name}' does not match pattern {pattern}")
            if ftype == "Float" and isinstance(default, int) and not isinstance(default, bool):
                default = float(default)
        return ir.Field(name, ftype, has_default, default, pattern, spec.get("auto-fill"), nested,
                        item_class)

    # -- commands ------------------------------------------------------------------------
    def check_commands(self) -> None:
        for source in self.ws.of_kind("command"):
            if not self.usable(source):
                continue
            ok = self.name_check(source, source.stem, pascal_problem)
            namespace_parts = source.parts[1:-1]
            for part in namespace_parts:
                if pascal_problem(part):
                    self.err(source.loc(), "DG301", f"command namespace folder {pascal_problem(part)}")
                    ok = False
            fields = self.fields(source, ("fields",), source.data["fields"], source.stem, True)
            if ok:
                self.commands[source.stem] = ir.Command(
                    source.stem, "/".join(namespace_parts), tuple(fields.values()), _loc(source),
                    source.data.get("description", ""))

    # -- aggregates ----------------------------------------------------------------------
    def collect_aggregates(self) -> None:
        folders: dict[str, _Aggregate] = {}
        for source in self.ws.files:
            if source.kind not in ("aggregate", "event", "behavior-flow"):
                continue
            sub, name = source.parts[1], source.parts[2]
            folder = f"domain/{sub}/{name}"
            agg = folders.setdefault(folder, _Aggregate(name, sub, folder))
            if source.kind == "aggregate":
                if agg.root is not None:
                    self.err(source.loc(), "DG303", f"aggregate '{name}' has two root files")
                    continue
                agg.root = source
            elif source.kind == "event":
                agg.event_files.append(source)
            else:
                agg.flow_files.append(source)
        for folder, agg in sorted(folders.items()):
            if agg.root is None and any(f"{folder}/root.y" in rel for rel in self.broken):
                continue
            if agg.root is None:
                first = (agg.event_files + agg.flow_files)[0]
                self.err(Location(first.rel), "DG308", f"{folder} has no root.yaml, so '{agg.name}' "
                         "is not an aggregate")
                continue
            if not self.usable(agg.root):
                continue
            ok = self.name_check(agg.root, agg.subdomain, lambda n: _prefix("subdomain folder", pascal_problem(n)))
            ok &= self.name_check(agg.root, agg.name, lambda n: _prefix("aggregate folder", pascal_problem(n)))
            if snake(agg.name) in RESERVED_MODULES:
                self.err(agg.root.loc(), "DG309", f"aggregate name '{agg.name}' is reserved: the generated "
                         f"package has a module '{snake(agg.name)}'")
                ok = False
            if not ok:
                continue
            if agg.name in self.aggregates:
                other = self.aggregates[agg.name]
                self.err(agg.root.loc(), "DG303", f"aggregate '{agg.name}' is also defined in {other.folder}")
                continue
            for existing in self.aggregates.values():
                if snake(existing.name) == snake(agg.name):
                    self.err(agg.root.loc(), "DG310", f"aggregates '{existing.name}' and '{agg.name}' "
                             f"both become the module '{snake(agg.name)}'")
                    ok = False
            if ok:
                self.aggregates[agg.name] = agg

    def check_aggregate_root(self, agg: _Aggregate) -> None:
        source = agg.root
        assert source is not None
        data = source.data
        agg.fields = self.fields(source, ("fields",), data["fields"], agg.name, False)
        for name, spec in data.get("entities", {}).items():
            path: P = ("entities", name)
            if not self.name_check(source, name, camel_problem, path, key=True):
                continue
            if name in data["fields"]:
                self.err(source.loc(path, key=True), "DG303", f"'{name}' is both a field and an entity")
                continue
            class_name = agg.name + name[0].upper() + name[1:] + "Item"
            efields = self.fields(source, path + ("fields",), spec["fields"], agg.name, False)
            key = spec["business-key"]
            if key not in efields:
                self.err(source.loc(path + ("business-key",)), "DG314",
                         f"entity business key '{key}' is not a field of '{name}'" + _hint(key, efields))
                continue
            if efields[key].type != "String":
                self.err(source.loc(path + ("business-key",)), "DG315",
                         f"entity business key '{key}' must be a String, not {efields[key].type}")
                continue
            agg.entities[name] = ir.Entity(name, class_name, key, tuple(efields.values()))
        key = data["business-key"]
        if key not in agg.fields:
            self.err(source.loc(("business-key",)), "DG314",
                     f"business key '{key}' is not a document field" + _hint(key, agg.fields))
        elif agg.fields[key].type != "String":
            self.err(source.loc(("business-key",)), "DG315",
                     f"business key '{key}' must be a String field, not {agg.fields[key].type}")

    def doc_names(self, agg: _Aggregate) -> dict[str, str]:
        """Document field name -> type ('Entity' for nested collections)."""
        names = {n: f.type for n, f in agg.fields.items()}
        names.update({n: "Entity" for n in agg.entities})
        return names

    # -- events --------------------------------------------------------------------------
    def check_events(self, agg: _Aggregate) -> None:
        snakes: dict[str, str] = {}
        for source in sorted(agg.event_files, key=lambda s: s.rel):
            if not self.usable(source) or not self.name_check(source, source.stem, pascal_problem):
                continue
            name = source.stem
            if snake(name) in snakes:
                self.err(source.loc(), "DG310", f"events '{snakes[snake(name)]}' and '{name}' both "
                         f"become the handler apply_{snake(name)}")
                continue
            snakes[snake(name)] = name
            fields = self.fields(source, ("fields",), source.data["fields"], name, True)
            handler = source.data["handler"]
            ops: list[ir.HandlerOp] = []
            code: str | None = None
            if "code" in handler:
                code = self.handler_code(source, agg, fields)
            else:
                ops = self.handler_ops(source, agg, fields, handler["mapping"])
            self.event_owner.setdefault(name, agg.name)
            code_line = self.snippet_loc(source, ("handler", "code"), 1).line if code else 0
            agg.events[name] = ir.Event(name, snake(name), agg.name, tuple(fields.values()),
                                        tuple(ops), code, _loc(source), code_line)

    def handler_code(self, source: SourceFile, agg: _Aggregate, fields: dict[str, ir.Field]) -> str | None:
        path: P = ("handler", "code")
        analysis = analyze_code(source.data["handler"]["code"])
        if analysis.error:
            self.err(self.snippet_loc(source, path, analysis.error_line), "DG311", analysis.error)
            return None
        doc = self.doc_names(agg)
        for ref in analysis.refs:
            if ref.root == "document" and ref.attr not in doc:
                self.err(self.snippet_loc(source, path, ref.line), "DG317",
                         f"'document.{ref.attr}' is not a field of {agg.name}" + _hint(ref.attr, doc))
            elif ref.root == "event" and ref.attr not in fields:
                self.err(self.snippet_loc(source, path, ref.line), "DG316",
                         f"'event.{ref.attr}' is not a field of {source.stem}" + _hint(ref.attr, fields))
        return analysis.text

    def handler_ops(self, source: SourceFile, agg: _Aggregate, fields: dict[str, ir.Field],
                    mapping: dict[str, dict[str, str]]) -> list[ir.HandlerOp]:
        ops = []
        for target, spec in mapping.items():
            path: P = ("handler", "mapping", target)
            ((op, value),) = spec.items()
            loc = source.loc(path + (op,))
            if target not in agg.fields and target not in agg.entities:
                self.err(source.loc(path, key=True), "DG317", f"'{target}' is not a document field of "
                         f"{agg.name}" + _hint(target, self.doc_names(agg)))
                continue
            if value not in fields:
                self.err(loc, "DG316", f"'{value}' is not a field of event {source.stem}" + _hint(value, fields))
                continue
            efield = fields[value]
            problem = None
            if target in agg.entities:
                if op not in ("extend", "replace"):
                    problem = f"entity collection '{target}' takes 'extend' or 'replace', not '{op}'"
                elif efield.type != "ObjectList":
                    problem = f"'{op}' needs an ObjectList event field; '{value}' is {efield.type}"
                else:
                    problem = _entity_compat(agg.entities[target], efield)
            else:
                dtype = agg.fields[target].type
                if op in ("extend", "replace"):
                    problem = f"'{op}' is for entity collections; '{target}' is a {dtype} field"
                elif op in ("add", "subtract") and dtype not in ("Int", "Float"):
                    problem = f"'{op}' needs a number field; '{target}' is {dtype}"
                elif not _assignable(efield.type, dtype):
                    problem = f"cannot {op} {efield.type} field '{value}' into {dtype} field '{target}'"
            if problem:
                self.err(loc, "DG318", problem)
                continue
            ops.append(ir.HandlerOp(target, op, value, ir.Loc(source.rel, loc.line)))
        return ops

    def check_source_names(self) -> None:
        """Commands and domain events share one namespace: triggers name them."""
        seen: dict[str, str] = {name: c.loc.file for name, c in self.commands.items()}
        for agg in self.aggregates.values():
            for name, event in agg.events.items():
                if name in seen:
                    self.err(Location(event.loc.file), "DG303",
                             f"'{name}' is already defined in {seen[name]}; command and event names must be unique")
                    self.event_owner.pop(name, None)
                else:
                    seen[name] = event.loc.file
                    self.event_owner[name] = agg.name

    # -- flows ---------------------------------------------------------------------------
    def check_flows(self, agg: _Aggregate) -> list[ir.Flow]:
        flows = []
        snakes: dict[str, str] = {}
        for source in sorted(agg.flow_files, key=lambda s: s.rel):
            if not self.usable(source) or not self.name_check(source, source.stem, pascal_problem):
                continue
            if snake(source.stem) in snakes:
                self.err(source.loc(), "DG310", f"flows '{snakes[snake(source.stem)]}' and '{source.stem}' "
                         f"both become the function {snake(source.stem)}")
                continue
            snakes[snake(source.stem)] = source.stem
            flow = FlowChecker(self, agg, source).run()
            if flow is not None:
                flows.append(flow)
        return flows

    # -- IR ------------------------------------------------------------------------------
    def build_model(self, project: tuple[str, str, str, tuple[str, ...]],
                    flows: dict[str, list[ir.Flow]]) -> ir.Model:
        name, package, description, deps = project
        aggregates = []
        for agg in sorted(self.aggregates.values(), key=lambda a: a.name):
            assert agg.root is not None
            data = agg.root.data
            aggregates.append(ir.Aggregate(
                name=agg.name, snake=snake(agg.name), subdomain=agg.subdomain,
                business_key=data["business-key"], fields=tuple(agg.fields.values()),
                entities=tuple(agg.entities.values()),
                event_ttl=data.get("event-ttl", DEFAULT_TTL),
                snapshot_interval=data.get("snapshot-interval", DEFAULT_SNAPSHOT_INTERVAL),
                backup_interval_days=data.get("backup-interval-days", 0),
                backup_ttl_days=data.get("backup-ttl-days", 0),
                events=tuple(sorted(agg.events.values(), key=lambda e: e.name)),
                flows=tuple(flows[agg.name]), loc=_loc(agg.root),
                description=data.get("description", "")))
        return ir.Model(
            name=name, package=package, description=description, dependencies=deps,
            commands=tuple(sorted(self.commands.values(), key=lambda c: c.name)),
            aggregates=tuple(aggregates),
            patterns=tuple(sorted(self.patterns.values(), key=lambda p: p.name)),
            expressions=tuple(sorted(self.expressions.values(), key=lambda e: e.name)),
            lib_modules=tuple(ir.LibModule(n, s.text, _loc(s)) for n, s in sorted(self.lib.items())))


class FlowChecker:
    """The rules of one behavior flow file."""

    def __init__(self, checker: Checker, agg: _Aggregate, source: SourceFile) -> None:
        self.c = checker
        self.agg = agg
        self.source = source
        self.data: dict[str, Any] = source.data
        self.ok = True
        self.var_types: dict[str, set[str | None]] = {}
        self.reads: list[tuple[P, Analysis]] = []  # flow.* references to check at the end

    def err(self, path: P, code: str, message: str, key: bool = False) -> None:
        self.c.err(self.source.loc(path, key=key), code, message)
        self.ok = False

    def run(self) -> ir.Flow | None:
        triggers = _present(self.trigger(i) for i in range(len(self.data["triggers"])))
        triggers_complete = len(triggers) == len(self.data["triggers"])
        processors = _present(self.processor(i) for i in range(len(self.data["processors"])))
        processors_complete = len(processors) == len(self.data["processors"])
        # With a broken trigger or processor, the set of flow variables and emitted events is
        # unknown: checking against it would only repeat the first error in other words.
        declaring = [p for p in self.data["processors"] if set(p) & {"set-variable", "code"}]
        declared_all = len([p for p in processors if p.kind in ("set-variable", "code")]) == len(declaring)
        if triggers_complete and declared_all:
            self.check_reads()
        if processors_complete and not any(p.kind == "emit-event" for p in processors):
            self.err(("processors",), "DG320", "a behavior flow needs at least one emit-event processor")
        emitted: set[str] | None = {p.event for p in processors if p.kind == "emit-event"}
        if not processors_complete or not emitted:
            emitted = None
        cases = self.test_cases(triggers, emitted, triggers_complete)
        if not self.ok:
            return None
        variables = tuple(
            ir.Variable(name, types.pop() if len(types) == 1 else None)
            for name, types in self.var_types.items()
        )
        return ir.Flow(self.source.stem, snake(self.source.stem), self.agg.name,
                       bool(self.data.get("create-command", False)), tuple(triggers), variables,
                       tuple(processors), tuple(cases), _loc(self.source),
                       self.data.get("description", ""))

    def env(self) -> Env:
        """The types of `flow.*` known at this point of the flow (for expression typing)."""
        env: dict[tuple[str, ...], str] = {("flow", "identity"): "String"}
        for name, types in self.var_types.items():
            if len(types) == 1 and None not in types:
                env[("flow", name)] = next(iter(types))  # type: ignore[assignment]
        for name, f in self.agg.fields.items():
            if f.type != "ObjectList":
                env[("flow", "entity", name)] = f.type
        return env

    def declare(self, name: str, ftype: str | None) -> None:
        if ftype == "ObjectList":
            ftype = None
        self.var_types.setdefault(name, set()).add(ftype)

    # -- triggers -----------------------------------------------------------------------
    def source_fields(self, name: str) -> dict[str, ir.Field] | None:
        if name in self.c.commands:
            return {f.name: f for f in self.c.commands[name].fields}
        owner = self.c.event_owner.get(name)
        if owner is not None:
            return {f.name: f for f in self.c.aggregates[owner].events[name].fields}
        return None

    def trigger(self, i: int) -> ir.Trigger | None:
        path: P = ("triggers", i)
        data = self.data["triggers"][i]
        source_name = data["source"]
        fields = self.source_fields(source_name)
        if fields is None:
            if source_name not in self.c.broken_names:
                known = set(self.c.commands) | set(self.c.event_owner)
                self.err(path + ("source",), "DG321", f"unknown trigger source '{source_name}'; "
                         "expected a command or a domain event" + _hint(source_name, known))
            else:
                self.ok = False
            return None
        owner = self.c.event_owner.get(source_name)
        if owner == self.agg.name:
            self.err(path + ("source",), "DG321", f"'{source_name}' is an event of {self.agg.name} itself; "
                     "a flow is triggered by a command or by an event of another aggregate")
            return None
        has_field, has_expr = "key-field" in data, "key-expression" in data
        key_field = key_expr = None
        if has_field == has_expr:
            self.err(path, "DG322", "a trigger needs exactly one of 'key-field' or 'key-expression'")
        elif has_field:
            key_field = data["key-field"]
            if key_field not in fields:
                self.err(path + ("key-field",), "DG316", f"key field '{key_field}' is not a field of "
                         f"{source_name}" + _hint(key_field, fields))
            elif fields[key_field].type != "String":
                self.err(path + ("key-field",), "DG315", f"key field '{key_field}' must be a String, "
                         f"not {fields[key_field].type}")
        else:
            analysis = self.event_expression(path + ("key-expression",), data["key-expression"],
                                             fields, source_name)
            key_expr = analysis.text if analysis else None
        mappings = self.mappings(path, data, fields, source_name)
        idem = data.get("idempotency-key", [])
        for j, name in enumerate(idem):
            if name not in fields:
                self.err(path + ("idempotency-key", j), "DG316", f"idempotency key field '{name}' is not a "
                         f"field of {source_name}" + _hint(name, fields))
        if len(set(idem)) != len(idem):
            self.err(path + ("idempotency-key",), "DG303", "idempotency key lists a field twice")
        if "idempotency-ttl" in data and not idem:
            self.err(path + ("idempotency-ttl",), "DG322", "idempotency-ttl needs an idempotency-key")
        return ir.Trigger(source_name, "event" if owner else "command", owner, key_field, key_expr,
                          tuple(mappings), tuple(idem), data.get("idempotency-ttl", -1),
                          ir.Loc(self.source.rel, self.source.loc(path).line))

    def event_expression(self, path: P, text: str, fields: dict[str, ir.Field],
                         source_name: str) -> Analysis | None:
        scope = Scope(frozenset({"event"}), frozenset(self.c.expressions), self.c.declared_names,
                      checked_elsewhere=frozenset({("event",)}))
        analysis = self.c.expression(self.source, path, text, scope)
        if analysis is None:
            self.ok = False
            return None
        for ref in analysis.refs:
            if ref.root == "event" and ref.attr not in fields:
                self.c.err(self.c.snippet_loc(self.source, path, ref.line), "DG316",
                           f"'event.{ref.attr}' is not a field of {source_name}" + _hint(ref.attr, fields))
                self.ok = False
        for name, _line in analysis.names:
            expr = self.c.expressions.get(name)
            if expr is not None:
                self.check_call_arity(path, analysis.text, expr)
        return analysis

    def check_call_arity(self, path: P, text: str, expr: ir.KeyExpression) -> None:
        for node in ast.walk(ast.parse(text, mode="eval")):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == expr.name
                    and (len(node.args) != len(expr.parameters) or node.keywords)):
                self.err(path, "DG323", f"key expression '{expr.name}' takes {len(expr.parameters)} "
                             f"positional argument(s): {', '.join(expr.parameters)}")

    def mappings(self, path: P, data: dict[str, Any], fields: dict[str, ir.Field],
                 source_name: str) -> list[ir.Mapping]:
        if "mapping" not in data:
            for name, f in fields.items():
                if name in RESERVED_VARIABLES:
                    self.err(path, "DG309", f"field '{name}' of {source_name} cannot become a flow variable "
                             "(reserved name); write an explicit mapping")
                    continue
                self.declare(name, f.type)
            return [ir.Mapping(name, name, None) for name in fields if name not in RESERVED_VARIABLES]
        result = []
        for target, value in data["mapping"].items():
            mpath = path + ("mapping", target)
            if not self.c.name_check(self.source, target, camel_problem, mpath, key=True):
                self.ok = False
                continue
            if target in RESERVED_VARIABLES:
                self.err(mpath, "DG309", f"'{target}' is reserved in a flow (flow.entity, flow.identity)", key=True)
                continue
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                if value not in fields:
                    self.err(mpath, "DG316", f"'{value}' is not a field of {source_name}" + _hint(value, fields))
                    self.declare(target, None)  # still a variable: no follow-up errors
                    continue
                self.declare(target, fields[value].type)
                result.append(ir.Mapping(target, value, None))
            else:
                analysis = self.event_expression(mpath, value, fields, source_name)
                self.declare(target, None)
                if analysis is None:
                    continue
                result.append(ir.Mapping(target, None, analysis.text))
        return result

    # -- processors ---------------------------------------------------------------------
    def processor(self, i: int) -> ir.Processor | None:
        path: P = ("processors", i)
        ((kind, data),) = self.data["processors"][i].items()
        loc = ir.Loc(self.source.rel, self.source.loc(path, key=False).line)
        ppath = path + (kind,)
        if kind == "emit-event":
            return self.emit_event(ppath, data, loc)
        if kind == "validator":
            cond = self.flow_expression(ppath + ("condition",), data["condition"])
            body, refs, problem = message_template(data["exception"])
            if problem:
                self.err(ppath + ("exception",), "DG324", problem)
            for ref in refs:
                analysis = self.flow_expression(ppath + ("exception",), ref)
                if analysis is None:
                    return None
            if cond is None or problem:
                return None
            return ir.Processor(kind, loc, condition=cond.text, message=body,
                                message_placeholders=bool(refs))
        if kind == "set-variable":
            name = data["name"]
            if not self.c.name_check(self.source, name, camel_problem, ppath + ("name",)):
                self.ok = False
                return None
            if name in RESERVED_VARIABLES:
                self.err(ppath + ("name",), "DG309", f"'{name}' is reserved in a flow (flow.entity, flow.identity)")
                return None
            expr = self.flow_expression(ppath + ("expression",), data["expression"])
            # Typed from its expression where certain (else Any), as of this point in the flow.
            self.declare(name, expression_type(expr.text, self.env()) if expr else None)
            return ir.Processor(kind, loc, name=name, expression=expr.text) if expr else None
        if kind == "code":
            return self.code(ppath, data, loc)
        expr = self.flow_expression(ppath + ("expression",), data["expression"])
        return ir.Processor(kind, loc, expression=expr.text) if expr else None

    def flow_expression(self, path: P, text: Any) -> Analysis | None:
        scope = Scope(frozenset({"flow"}), frozenset(self.c.expressions), self.c.declared_names,
                      checked_elsewhere=frozenset({("flow",), ("flow", "entity")}))
        analysis = self.c.expression(self.source, path, text, scope)
        if analysis is None:
            self.ok = False
            return None
        self.reads.append((path, analysis))
        return analysis

    def emit_event(self, path: P, data: dict[str, Any], loc: ir.Loc) -> ir.Processor | None:
        ref = data["ref"]
        event = self.agg.events.get(ref)
        if event is None:
            if ref in self.c.event_owner:
                self.err(path + ("ref",), "DG325", f"'{ref}' is an event of {self.c.event_owner[ref]}; "
                         f"a flow of {self.agg.name} can only emit events of {self.agg.name}")
            elif ref not in self.c.broken_names:
                self.err(path + ("ref",), "DG325", f"unknown event '{ref}' of {self.agg.name}"
                         + _hint(ref, self.agg.events))
            else:
                self.ok = False
            return None
        fields = {f.name: f for f in event.fields}
        mapping = data.get("mapping", {})
        assignments = []
        for name, value in mapping.items():
            if name not in fields:
                self.err(path + ("mapping", name), "DG316", f"'{name}' is not a field of event {ref}"
                         + _hint(name, fields), key=True)
                continue
            expr = self.flow_expression(path + ("mapping", name), value)
            if expr is None:
                continue
            target = fields[name].type
            given = expression_type(expr.text, self.env())
            if given is not None and target != "ObjectList" and not assignable(given, target):
                self.err(path + ("mapping", name), "DG329", f"field '{name}' of {ref} is "
                         f"{target}, but '{expr.text}' gives a {given}")
                continue
            assignments.append(ir.Assignment(name, expr.text))
        missing = [n for n, f in fields.items() if n not in mapping and not f.has_default]
        if missing:
            self.err(path + ("ref",), "DG326", f"emit-event {ref} does not map field(s): {', '.join(missing)}")
        return ir.Processor("emit-event", loc, event=ref, assignments=tuple(assignments))

    def code(self, path: P, data: dict[str, Any], loc: ir.Loc) -> ir.Processor | None:
        if "inline" in data:
            if "file" in data or "handler" in data:
                self.err(path, "DG327", "a code processor has either 'inline' or 'file' with 'handler'")
                return None
            analysis = analyze_code(data["inline"])
            if analysis.error:
                self.c.err(self.c.snippet_loc(self.source, path + ("inline",), analysis.error_line),
                           "DG311", analysis.error)
                self.ok = False
                return None
            # Typed where the code makes it certain (top-level `flow.x = ...`), else Any.
            for name, ftype in assigned_types(analysis.text, self.env()).items():
                if name not in ("entity", "identity"):
                    self.declare(name, ftype)
            self.note_code_refs(path + ("inline",), analysis, "flow")
            return ir.Processor("code", loc, inline=analysis.text)
        if "file" not in data or "handler" not in data:
            self.err(path, "DG327", "a code processor needs 'inline', or 'file' and 'handler'")
            return None
        module, function = data["file"], data["handler"]
        lib = self.c.lib.get(module)
        if lib is None:
            self.err(path + ("file",), "DG328", f"lib module '{module}' not found (expected lib/{module}.py)"
                     + _hint(module, self.c.lib))
            return None
        params = function_parameters(lib.text, function)
        if params is None:
            self.err(path + ("handler",), "DG328", f"lib/{module}.py has no top-level function '{function}'")
            return None
        if len(params) != 1:
            self.err(path + ("handler",), "DG328", f"'{function}' in lib/{module}.py must take exactly one "
                     f"parameter (flow), it takes {len(params)}")
            return None
        analysis = analyze_code(lib.text)
        self.note_code_refs(path, analysis, params[0], lib_function=function)
        return ir.Processor("code", loc, module=module, function=function)

    def note_code_refs(self, path: P, analysis: Analysis, root: str, lib_function: str | None = None) -> None:
        """Assignments to flow.<x> in code declare variables (lib code: of unknown type; inline
        code was typed by the caller); reads are checked at the end."""
        for ref in analysis.refs:
            if (lib_function is not None and ref.root == root and ref.store
                    and ref.attr not in ("entity", "identity")):
                self.declare(ref.attr, None)
        if lib_function is None:
            renamed = Analysis(analysis.text, refs=[r for r in analysis.refs if r.root == root])
            self.reads.append((path, renamed))

    def check_reads(self) -> None:
        doc = self.c.doc_names(self.agg)
        for path, analysis in self.reads:
            for ref in analysis.refs:
                if ref.root != "flow" or ref.store:
                    continue
                loc = self.c.snippet_loc(self.source, path, ref.line)
                if ref.attr == "entity":
                    if ref.sub is not None and ref.sub not in doc:
                        self.c.err(loc, "DG317", f"'flow.entity.{ref.sub}' is not a document field of "
                                   f"{self.agg.name}" + _hint(ref.sub, doc))
                        self.ok = False
                elif ref.attr != "identity" and ref.attr not in self.var_types:
                    self.c.err(loc, "DG319", f"'flow.{ref.attr}' is not a flow variable"
                               + _hint(ref.attr, self.var_types))
                    self.ok = False

    # -- test cases ---------------------------------------------------------------------
    def test_cases(self, triggers: list[ir.Trigger], emitted: set[str] | None,
                   complete: bool) -> list[ir.TestCase]:
        if not complete:
            return []
        cases = []
        seen: dict[str, int] = {}
        by_source = {t.source: t for t in triggers}
        for i, data in enumerate(self.data["test-cases"]):
            path: P = ("test-cases", i)
            name = data["name"]
            if not self.c.name_check(self.source, name, pascal_problem, path + ("name",)):
                self.ok = False
                continue
            if snake(name) in seen:
                self.err(path + ("name",), "DG303", f"duplicate test case name '{name}'")
                continue
            seen[snake(name)] = i
            case = self.test_case(path, data, by_source, emitted)
            if case is not None:
                cases.append(case)
        return cases

    def test_case(self, path: P, data: dict[str, Any], by_source: dict[str, ir.Trigger],
                  emitted: set[str] | None) -> ir.TestCase | None:
        ok = True
        trigger_name = data["trigger-event"]
        fields = self.source_fields(trigger_name)
        if trigger_name not in by_source or fields is None:
            if trigger_name not in self.c.broken_names:
                self.err(path + ("trigger-event",), "DG330", f"'{trigger_name}' does not trigger this flow"
                         + _hint(trigger_name, by_source))
            return None
        ok &= self.check_values(path + ("input",), data["input"], fields, required=True)
        doc_fields = {f.name: f for f in self.agg_fields()}
        state = data.get("state")
        if state is not None:
            ok &= self.check_values(path + ("state",), state, doc_fields, required=False)
        expected = []
        for j, item in enumerate(data.get("expected", [])):
            epath = path + ("expected", j)
            ev = self.agg.events.get(item["event"])
            if emitted is None:
                ok = False
                continue
            if ev is None or item["event"] not in emitted:
                self.err(epath + ("event",), "DG331", f"this flow never emits '{item['event']}'"
                         + _hint(item["event"], emitted))
                ok = False
                continue
            efields = item.get("fields", {})
            ok &= self.check_values(epath + ("fields",), efields, {f.name: f for f in ev.fields},
                                    required=False)
            expected.append(ir.ExpectedEvent(item["event"], tuple(efields.items())))
        exp_state = data.get("expected-state")
        if exp_state is not None:
            ok &= self.check_values(path + ("expected-state", "state"), exp_state.get("state", {}),
                                    doc_fields, required=False)
        error = data.get("expected-error")
        if error is not None and (data.get("expected") or exp_state is not None):
            self.err(path + ("expected-error",), "DG332", "a test case expects either an error or "
                     "events and state, not both", key=True)
            return None
        if error is None and not data.get("expected") and exp_state is None:
            self.err(path, "DG332", "test case asserts nothing: add 'expected', 'expected-state' or "
                     "'expected-error'")
            return None
        if not ok:
            return None
        return ir.TestCase(
            name=data["name"], snake=snake(data["name"]), trigger=trigger_name,
            input=tuple(data["input"].items()),
            state=tuple(state.items()) if state is not None else None,
            expected=tuple(expected),
            expected_state_pk=exp_state["pk"] if exp_state else None,
            expected_state=tuple(exp_state.get("state", {}).items()) if exp_state else (),
            expected_error=error,
            loc=ir.Loc(self.source.rel, self.source.loc(path).line))

    def agg_fields(self) -> list[ir.Field]:
        """Document fields, entity collections included (as pseudo-fields)."""
        result = list(self.agg.fields.values())
        for ent in self.agg.entities.values():
            result.append(ir.Field(ent.name, "Entity", fields=ent.fields, item_class=ent.business_key))
        return result

    def check_values(self, path: P, values: dict[str, Any], fields: dict[str, ir.Field],
                     required: bool) -> bool:
        ok = True
        for name, value in values.items():
            if name not in fields:
                self.err(path + (name,), "DG333", f"'{name}' is not a field here" + _hint(name, fields), key=True)
                ok = False
                continue
            f = fields[name]
            problem = value_problem(value, f.type, f.fields, entity_key=f.item_class if f.type == "Entity" else None)
            if problem:
                self.err(path + (name,), "DG333", f"'{name}': {problem}")
                ok = False
        if required:
            missing = [n for n, f in fields.items() if f.required and n not in values]
            if missing:
                self.err(path, "DG333", f"input is missing required field(s): {', '.join(missing)}")
                ok = False
        return ok


# -- value checks ------------------------------------------------------------------------
_TYPE_CHECK: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "StringList": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def value_problem(value: Any, ftype: str, nested: Iterable[ir.Field] = (),
                  entity_key: str | None = None) -> str | None:
    """Why `value` is not a valid value of the type, or None."""
    if ftype in _TYPE_CHECK:
        if _TYPE_CHECK[ftype](value):
            return None
        return f"expected {ftype}, got {_describe(value)}"
    sub = {f.name: f for f in nested}
    if ftype == "ObjectList":
        if not isinstance(value, list):
            return f"expected a list of objects, got {_describe(value)}"
        items = list(enumerate(value))
    else:  # Entity: a mapping from entity key to object
        if not isinstance(value, dict):
            return f"expected a mapping of {entity_key} to objects, got {_describe(value)}"
        items = list(value.items())
    for index, item in items:
        if not isinstance(item, dict):
            return f"item {index}: expected an object, got {_describe(item)}"
        for key, inner in item.items():
            if key not in sub:
                return f"item {index}: '{key}' is not a field" + _hint(key, sub)
            problem = value_problem(inner, sub[key].type)
            if problem:
                return f"item {index}: '{key}': {problem}"
        if entity_key is not None and item.get(entity_key, index) != index:
            return f"item {index}: its {entity_key} must equal its key"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null"


def _present(items: Iterable[Any]) -> list[Any]:
    return [item for item in items if item is not None]


def _assignable(source: str, target: str) -> bool:
    return source == target or (source == "Int" and target == "Float")


def _entity_compat(entity: ir.Entity, event_field: ir.Field) -> str | None:
    efields = {f.name: f for f in entity.fields}
    names = {f.name for f in event_field.fields}
    if entity.business_key not in names:
        return f"items of '{event_field.name}' need the entity key '{entity.business_key}'"
    for f in event_field.fields:
        if f.name not in efields:
            return f"'{event_field.name}.{f.name}' is not a field of entity '{entity.name}'"
        if not _assignable(f.type, efields[f.name].type):
            return f"'{event_field.name}.{f.name}' is {f.type}, entity field is {efields[f.name].type}"
    return None


def _without_anchors(regex: str) -> str:
    """An included pattern loses its `^` and `$`, as in the original: a whole-value pattern
    (`^[0-9]+$`) must still work as a part of another (`NL{{Digits}}`)."""
    regex = regex.removeprefix("^")
    if regex.endswith("$"):
        body = regex[:-1]
        escapes = len(body) - len(body.rstrip("\\"))
        if escapes % 2 == 0:  # `\$` is a literal dollar sign, not an anchor
            regex = body
    return regex


def _hint(name: str, options: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _prefix(what: str, problem: str | None) -> str | None:
    return f"{what} {problem}" if problem else None


def _is_block(source: SourceFile, path: P) -> bool:
    """True when the scalar at `path` is a `|` or `>` block (its text starts a line later)."""
    line, col = source.positions.get(path, (0, 0))
    if not line:
        return False
    text_lines = source.text.splitlines()
    if line - 1 >= len(text_lines):
        return False
    rest = text_lines[line - 1][col - 1 :].lstrip()
    return rest[:1] in ("|", ">")


def _loc(source: SourceFile) -> ir.Loc:
    return ir.Loc(source.rel, 1)


def check(ws: Workspace, diags: Diagnostics, broken: set[str]) -> ir.Model | None:
    return Checker(ws, diags, broken).run()

