"""Behavior flows: triggers, mappings, processors and the flow variables they declare and read."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from draftsman_gen import ir
from draftsman_gen.grammar import Scope
from draftsman_gen.infer import Env, assignable, assigned_types, expression_type
from draftsman_gen.loader import SourceFile
from draftsman_gen.naming import RESERVED_VARIABLES, camel_problem, pascal_problem
from draftsman_gen.pyexpr import (
    Analysis,
    analyze_code,
    function_parameters,
    mentions,
    message_template,
)
from draftsman_gen.semantic.aggregates import AggregateDraft
from draftsman_gen.semantic.expressions import call_arity_problems, check_expression
from draftsman_gen.semantic.sink import P, Sink, file_loc, hint, snippet_loc
from draftsman_gen.semantic.symbols import Symbols
from draftsman_gen.semantic.testcases import check_test_cases

T = TypeVar("T")


def check_flows(sink: Sink, syms: Symbols, agg: AggregateDraft) -> list[ir.Flow]:
    flows = []
    for source in sorted(agg.flow_files, key=lambda s: s.rel):
        if not sink.usable(source) or not sink.name_check(source, source.stem, pascal_problem):
            continue
        flow = FlowChecker(sink, syms, agg, source).run()
        if flow is not None:
            flows.append(flow)
    return flows


class FlowChecker:
    """The rules of one behavior flow file; its state is the flow's variables so far."""

    def __init__(self, sink: Sink, syms: Symbols, agg: AggregateDraft,
                 source: SourceFile) -> None:
        self.sink = sink
        self.syms = syms
        self.agg = agg
        self.source = source
        self.data: dict[str, Any] = source.data
        self.ok = True
        self.var_types: dict[str, set[str | None]] = {}
        self.reads: list[tuple[P, Analysis]] = []  # flow.* references to check at the end

    def err(self, path: P, code: str, message: str, key: bool = False) -> None:
        self.sink.err(self.source.loc(path, key=key), code, message)
        self.ok = False

    def run(self) -> ir.Flow | None:
        triggers: list[ir.Trigger] = _present(
            self.trigger(i) for i in range(len(self.data["triggers"])))
        triggers_complete = len(triggers) == len(self.data["triggers"])
        processors: list[ir.Processor] = _present(
            self.processor(i) for i in range(len(self.data["processors"])))
        processors_complete = len(processors) == len(self.data["processors"])
        # With a broken trigger or processor, the set of flow variables and emitted events is
        # unknown: checking against it would only repeat the first error in other words.
        declaring = [p for p in self.data["processors"] if set(p) & {"set-variable", "code"}]
        declared = [p for p in processors if isinstance(p, ir.SetVariable | ir.InlineCode
                                                        | ir.LibCall)]
        if triggers_complete and len(declared) == len(declaring):
            self.check_reads()
        emitted = {p.event for p in processors if isinstance(p, ir.EmitEvent)}
        if processors_complete and not emitted:
            self.err(("processors",), "DG320",
                     "a behavior flow needs at least one emit-event processor")
        cases, cases_ok = check_test_cases(
            self.sink, self.syms, self.agg, self.source, triggers,
            emitted if processors_complete and emitted else None, triggers_complete)
        if not self.ok or not cases_ok:
            return None
        variables = tuple(
            ir.Variable(name, _scalar(types.pop()) if len(types) == 1 else None)
            for name, types in self.var_types.items()
        )
        return ir.Flow(self.source.stem, self.agg.name,
                       bool(self.data.get("create-command", False)), tuple(triggers), variables,
                       tuple(processors), tuple(cases), file_loc(self.source),
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

    # -- triggers -------------------------------------------------------------------------
    def trigger(self, i: int) -> ir.Trigger | None:
        path: P = ("triggers", i)
        data = self.data["triggers"][i]
        source_name = data["source"]
        fields = self.syms.source_fields(source_name)
        if fields is None:
            if source_name not in self.syms.broken_names:
                known = set(self.syms.commands) | set(self.syms.event_owner)
                self.err(path + ("source",), "DG321", f"unknown trigger source '{source_name}'; "
                         "expected a command or a domain event" + hint(source_name, known))
            else:
                self.ok = False
            return None
        owner = self.syms.event_owner.get(source_name)
        if owner == self.agg.name:
            self.err(path + ("source",), "DG321", f"'{source_name}' is an event of "
                     f"{self.agg.name} itself; a flow is triggered by a command or by an event "
                     "of another aggregate")
            return None
        key = self.trigger_key(path, data, fields, source_name)
        mappings = self.mappings(path, data, fields, source_name)
        idem = data.get("idempotency-key", [])
        for j, name in enumerate(idem):
            if name not in fields:
                self.err(path + ("idempotency-key", j), "DG316", f"idempotency key field '{name}' "
                         f"is not a field of {source_name}" + hint(name, fields))
        if len(set(idem)) != len(idem):
            self.err(path + ("idempotency-key",), "DG303", "idempotency key lists a field twice")
        if "idempotency-ttl" in data and not idem:
            self.err(path + ("idempotency-ttl",), "DG322",
                     "idempotency-ttl needs an idempotency-key")
        if key is None:  # reported; the trigger stays, so test cases are still checked
            key = ir.KeyField("")
        return ir.Trigger(source_name, "event" if owner else "command", owner, key,
                          tuple(mappings), tuple(idem), data.get("idempotency-ttl", -1),
                          ir.Loc(self.source.rel, self.source.loc(path).line))

    def trigger_key(self, path: P, data: dict[str, Any], fields: dict[str, ir.Field],
                    source_name: str) -> ir.KeyField | ir.KeyByExpression | None:
        has_field, has_expr = "key-field" in data, "key-expression" in data
        if has_field == has_expr:
            self.err(path, "DG322", "a trigger needs exactly one of 'key-field' or "
                     "'key-expression'")
            return None
        if has_field:
            key_field = data["key-field"]
            if key_field not in fields:
                self.err(path + ("key-field",), "DG316", f"key field '{key_field}' is not a field "
                         f"of {source_name}" + hint(key_field, fields))
                return None
            if fields[key_field].type != "String":
                self.err(path + ("key-field",), "DG315", f"key field '{key_field}' must be a "
                         f"String, not {fields[key_field].type}")
                return None
            return ir.KeyField(key_field)
        analysis = self.event_expression(path + ("key-expression",), data["key-expression"],
                                         fields, source_name)
        return ir.KeyByExpression(analysis.text) if analysis else None

    def event_expression(self, path: P, text: str, fields: dict[str, ir.Field],
                         source_name: str) -> Analysis | None:
        scope = Scope(frozenset({"event"}), frozenset(self.syms.expressions), self.syms.declared,
                      checked_elsewhere=frozenset({("event",)}))
        analysis = check_expression(self.sink, self.source, path, text, scope)
        if analysis is None:
            self.ok = False
            return None
        for ref in analysis.refs:
            if ref.root == "event" and ref.attr not in fields:
                self.sink.err(snippet_loc(self.source, path, ref.line), "DG316",
                              f"'event.{ref.attr}' is not a field of {source_name}"
                              + hint(ref.attr, fields))
                self.ok = False
        for name, _line in analysis.names:
            expr = self.syms.expressions.get(name)
            if expr is not None:
                for problem in call_arity_problems(analysis.text, expr):
                    self.err(path, "DG323", problem)
        return analysis

    def mappings(self, path: P, data: dict[str, Any], fields: dict[str, ir.Field],
                 source_name: str) -> list[ir.Mapping]:
        if "mapping" not in data:
            result: list[ir.Mapping] = []
            for name, f in fields.items():
                if name in RESERVED_VARIABLES:
                    self.err(path, "DG309", f"field '{name}' of {source_name} cannot become a flow "
                             "variable (reserved name); write an explicit mapping")
                    continue
                self.declare(name, f.type)
                result.append(ir.MapField(name, name))
            return result
        result = []
        for target, value in data["mapping"].items():
            mpath = path + ("mapping", target)
            if not self.sink.name_check(self.source, target, camel_problem, mpath, key=True):
                self.ok = False
                continue
            if target in RESERVED_VARIABLES:
                self.err(mpath, "DG309", f"'{target}' is reserved in a flow (flow.entity, "
                         "flow.identity)", key=True)
                continue
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                if value not in fields:
                    self.err(mpath, "DG316", f"'{value}' is not a field of {source_name}"
                             + hint(value, fields))
                    self.declare(target, None)  # still a variable: no follow-up errors
                    continue
                self.declare(target, fields[value].type)
                result.append(ir.MapField(target, value))
            else:
                analysis = self.event_expression(mpath, value, fields, source_name)
                self.declare(target, None)
                if analysis is None:
                    continue
                result.append(ir.MapExpression(target, analysis.text))
        return result

    # -- processors -----------------------------------------------------------------------
    def processor(self, i: int) -> ir.Processor | None:
        path: P = ("processors", i)
        ((kind, data),) = self.data["processors"][i].items()
        loc = ir.Loc(self.source.rel, self.source.loc(path, key=False).line)
        ppath = path + (kind,)
        if kind == "emit-event":
            return self.emit_event(ppath, data, loc)
        if kind == "validator":
            return self.validator(ppath, data, loc)
        if kind == "set-variable":
            return self.set_variable(ppath, data, loc)
        if kind == "code":
            return self.code(ppath, data, loc)
        expr = self.flow_expression(ppath + ("expression",), data["expression"])
        return ir.UpdateKey(loc, expr.text) if expr else None

    def validator(self, path: P, data: dict[str, Any], loc: ir.Loc) -> ir.Validator | None:
        cond = self.flow_expression(path + ("condition",), data["condition"])
        body, refs, problem = message_template(data["exception"])
        if problem:
            self.err(path + ("exception",), "DG324", problem)
        for ref in refs:
            if self.flow_expression(path + ("exception",), ref) is None:
                return None
        if cond is None or problem:
            return None
        return ir.Validator(loc, cond.text, body, bool(refs))

    def set_variable(self, path: P, data: dict[str, Any], loc: ir.Loc) -> ir.SetVariable | None:
        name = data["name"]
        if not self.sink.name_check(self.source, name, camel_problem, path + ("name",)):
            self.ok = False
            return None
        if name in RESERVED_VARIABLES:
            self.err(path + ("name",), "DG309", f"'{name}' is reserved in a flow (flow.entity, "
                     "flow.identity)")
            return None
        expr = self.flow_expression(path + ("expression",), data["expression"])
        # Typed from its expression where certain (else Any), as of this point in the flow.
        self.declare(name, expression_type(expr.text, self.env()) if expr else None)
        return ir.SetVariable(loc, name, expr.text) if expr else None

    def flow_expression(self, path: P, text: Any) -> Analysis | None:
        scope = Scope(frozenset({"flow"}), frozenset(self.syms.expressions), self.syms.declared,
                      checked_elsewhere=frozenset({("flow",), ("flow", "entity")}))
        analysis = check_expression(self.sink, self.source, path, text, scope)
        if analysis is None:
            self.ok = False
            return None
        self.reads.append((path, analysis))
        return analysis

    def emit_event(self, path: P, data: dict[str, Any], loc: ir.Loc) -> ir.EmitEvent | None:
        ref = data["ref"]
        event = self.agg.events.get(ref)
        if event is None:
            if ref in self.syms.event_owner:
                self.err(path + ("ref",), "DG325", f"'{ref}' is an event of "
                         f"{self.syms.event_owner[ref]}; a flow of {self.agg.name} can only emit "
                         f"events of {self.agg.name}")
            elif ref not in self.syms.broken_names:
                self.err(path + ("ref",), "DG325", f"unknown event '{ref}' of {self.agg.name}"
                         + hint(ref, self.agg.events))
            else:
                self.ok = False
            return None
        fields = {f.name: f for f in event.fields}
        mapping = data.get("mapping", {})
        assignments = []
        for name, value in mapping.items():
            if name not in fields:
                self.err(path + ("mapping", name), "DG316", f"'{name}' is not a field of event "
                         f"{ref}" + hint(name, fields), key=True)
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
            self.err(path + ("ref",), "DG326", f"emit-event {ref} does not map field(s): "
                     f"{', '.join(missing)}")
        return ir.EmitEvent(loc, ref, tuple(assignments))

    def code(self, path: P, data: dict[str, Any],
             loc: ir.Loc) -> ir.InlineCode | ir.LibCall | None:
        if "inline" in data:
            if "file" in data or "handler" in data:
                self.err(path, "DG327", "a code processor has either 'inline' or 'file' with "
                         "'handler'")
                return None
            analysis = analyze_code(data["inline"])
            if analysis.error:
                self.sink.err(snippet_loc(self.source, path + ("inline",), analysis.error_line),
                              "DG311", analysis.error)
                self.ok = False
                return None
            # Typed where the code makes it certain (top-level `flow.x = ...`), else Any.
            for name, ftype in assigned_types(analysis.text, self.env()).items():
                if name not in ("entity", "identity"):
                    self.declare(name, ftype)
            self.reads.append((path + ("inline",), Analysis(
                analysis.text, refs=[r for r in analysis.refs if r.root == "flow"])))
            return ir.InlineCode(loc, analysis.text, mentions(analysis.text, "FunctionalError"))
        if "file" not in data or "handler" not in data:
            self.err(path, "DG327", "a code processor needs 'inline', or 'file' and 'handler'")
            return None
        return self.lib_call(path, data["file"], data["handler"], loc)

    def lib_call(self, path: P, module: str, function: str, loc: ir.Loc) -> ir.LibCall | None:
        lib = self.syms.lib.get(module)
        if lib is None:
            self.err(path + ("file",), "DG328", f"lib module '{module}' not found (expected "
                     f"lib/{module}.py)" + hint(module, self.syms.lib))
            return None
        params = function_parameters(lib.text, function)
        if params is None:
            self.err(path + ("handler",), "DG328", f"lib/{module}.py has no top-level function "
                     f"'{function}'" + hint(function, _functions(lib.text)))
            return None
        if len(params) != 1:
            self.err(path + ("handler",), "DG328", f"'{function}' in lib/{module}.py must take "
                     f"exactly one parameter (flow), it takes {len(params)}")
            return None
        # Lib code may assign any flow variable: of a type only the code knows.
        for ref in analyze_code(lib.text).refs:
            if ref.root == params[0] and ref.store and ref.attr not in ("entity", "identity"):
                self.declare(ref.attr, None)
        return ir.LibCall(loc, module, function)

    def check_reads(self) -> None:
        doc = self.agg.document_names()
        for path, analysis in self.reads:
            for ref in analysis.refs:
                if ref.root != "flow" or ref.store:
                    continue
                loc = snippet_loc(self.source, path, ref.line)
                if ref.attr == "entity":
                    if ref.sub is not None and ref.sub not in doc:
                        self.sink.err(loc, "DG317", f"'flow.entity.{ref.sub}' is not a document "
                                      f"field of {self.agg.name}" + hint(ref.sub, doc))
                        self.ok = False
                elif ref.attr != "identity" and ref.attr not in self.var_types:
                    if ref.attr in doc:
                        more = (f"; '{ref.attr}' is a field of the {self.agg.name} document: "
                                f"write 'flow.entity.{ref.attr}'")
                    else:
                        more = hint(ref.attr, self.var_types)
                    self.sink.err(loc, "DG319", f"'flow.{ref.attr}' is not a flow variable" + more)
                    self.ok = False


def _functions(source: str) -> list[str]:
    """The top-level function names of a lib module (for a did-you-mean)."""
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]


def _scalar(ftype: str | None) -> ir.ScalarType | None:
    for scalar in ir.SCALAR_TYPES:
        if ftype == scalar:
            return scalar
    return None


def _present(items: Iterable[T | None]) -> list[T]:
    return [item for item in items if item is not None]
