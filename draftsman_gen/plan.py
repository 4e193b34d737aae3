"""Stage 4a: the files to generate, each with its template and its typed context.

Reads the IR and the names lower.py decided; decides nothing about names or paths itself.
Each IR kind is handled with `match` and `assert_never`, so a new kind cannot be forgotten.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from typing import Literal, assert_never

from draftsman_gen import __version__, ir
from draftsman_gen import contexts as cx
from draftsman_gen.layout import black_canonical, fstring, negate, py
from draftsman_gen.lower import (
    VENDOR,
    GraphqlNames,
    Names,
    TriggerNames,
    called_names,
    flow_expressions,
)
from draftsman_gen.vendor import RuntimeFacts, runtime_facts, runtime_files

Context = object  # one of the classes in contexts.py


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the output directory, POSIX
    template: str
    context: Context
    python: bool = True
    text: str | None = None  # a verbatim file (the vendored runtime): no template, no black
    # Written in black's layout by its template (given lines that fit): black may be skipped.
    black_layout: bool = True


def plan(model: ir.Model, names: Names, model_label: str,
         vendor_runtime: bool = False) -> list[OutputFile]:
    """Every generated file of the model, in a stable order."""
    pkg = names.package
    base = _base(model, model_label, runtime_facts(), vendor_runtime)
    top = header(f"{model_label}/draftsman.yaml")
    files = [
        OutputFile("pyproject.toml", "pyproject.toml.j2", _pyproject(model, base, top),
                   python=False),
        OutputFile("README.md", "README.md.j2", _readme(model, base, top), python=False),
        OutputFile(f"{pkg}/py.typed", "py.typed.j2", cx.Plain(top, base), python=False),
        OutputFile(f"{pkg}/__init__.py", "package/__init__.py.j2",
                   cx.PackageInit(top, base, comment_lines(model.description))),
        OutputFile(f"{pkg}/__main__.py", "package/__main__.py.j2", cx.Plain(top, base)),
        OutputFile(f"{pkg}/commands.py", "package/commands.py.j2",
                   _commands(model, names, base)),
        _expressions(model, names, base),
        OutputFile(f"{pkg}/registry.py", "package/registry.py.j2",
                   _registry(model, names, base, top)),
        OutputFile(f"{pkg}/schema.graphql", "package/schema.graphql.j2",
                   _graphql(model, names, base, top), python=False),
        OutputFile("tests/__init__.py", "empty.py.j2", cx.Plain(top, base)),
        OutputFile(f"{pkg}/lib/__init__.py", "lib_init.py.j2", cx.Plain(top, base)),
    ]
    if vendor_runtime:
        files.append(OutputFile(f"{pkg}/{VENDOR}/__init__.py", "vendor_init.py.j2",
                                cx.Plain(top, base)))
        for rel, text in runtime_files().items():
            # Verbatim: the runtime's own files, neither templated nor formatted.
            files.append(OutputFile(f"{pkg}/{VENDOR}/draftsman_runtime/{rel}", "", cx.Plain(top, base),
                                    python=False, text=text))
    for lib in model.lib_modules:
        lib_header = header(f"{model_label}/{lib.loc.file}") + " Edit the model's copy."
        files.append(OutputFile(f"{pkg}/lib/{lib.name}.py", "lib.py.j2",
                                cx.LibModule(lib_header, lib.source.rstrip("\n")),
                                black_layout=False))
    for agg in model.aggregates:
        files += _aggregate_files(model, names, agg, base)
    paths = [f.path for f in files]
    assert len(set(paths)) == len(paths), "lower.py lets no two files share a path"
    return sorted(files, key=lambda f: f.path)


def _aggregate_files(model: ir.Model, names: Names, agg: ir.Aggregate,
                     base: cx.Base) -> list[OutputFile]:
    an = names.aggregates[agg.name]
    folder = f"{base.model_label}/domain/{agg.subdomain}/{agg.name}"
    names_ctx = cx.Aggregate(agg.name, an.module, an.document, an.union)
    flows, flows_layout = _flows(model, names, agg, names_ctx, base, folder)
    files = [
        OutputFile(f"{an.folder}/__init__.py", "empty.py.j2",
                   cx.Plain(header(f"{folder}/events"), base)),
        OutputFile(f"{an.folder}/document.py", "aggregate/document.py.j2",
                   _document(names, agg, names_ctx, base, folder)),
        OutputFile(f"{an.folder}/events.py", "aggregate/events.py.j2",
                   _events(names, agg, names_ctx, base, folder)),
        OutputFile(f"{an.folder}/handlers.py", "aggregate/handlers.py.j2",
                   _handlers(names, agg, names_ctx, base, folder),
                   black_layout=not any(isinstance(e.handler, ir.HandlerCode)
                                        for e in agg.events)),
        OutputFile(f"{an.folder}/flows.py", "aggregate/flows.py.j2", flows,
                   black_layout=flows_layout),
    ]
    for flow in agg.flows:
        files.append(OutputFile(names.flow(agg, flow).test_path, "tests/test_flow.py.j2",
                                _tests(names, agg, flow, base)))
    return files


# -- text helpers ----------------------------------------------------------------------------
def header(tool_source: str) -> str:
    return f"# Generated by draftsman-gen {__version__} from {comment(tool_source)}. DO NOT EDIT."


def comment(text: str) -> str:
    """Text made safe for a `#` comment: control characters (line breaks included) become spaces."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)


def comment_lines(text: str) -> tuple[str, ...]:
    """A free-text description as comment lines (without the `# `), wrapped at 88 columns."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        lines += textwrap.wrap(comment(line), width=88) or [""]
    return tuple(lines)


def import_order(name: str) -> tuple[int, list[int | str], str]:
    """The order isort (and ruff) give imported names and modules: constants, then classes,
    then the rest; within each, case-insensitive with numbers in numeric order (A2 < A10)."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower())]
    return kind, natural, name


def env_prefix(package: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", package.upper())


def where(loc: ir.Loc) -> str:
    return f"{loc.file}:{loc.line}"


# -- package files ---------------------------------------------------------------------------
def _base(model: ir.Model, label: str, facts: RuntimeFacts, vendored: bool) -> cx.Base:
    runtime = f"{model.package}.{VENDOR}.draftsman_runtime" if vendored else "draftsman_runtime"
    return cx.Base(
        model_label=label, package=model.package, project=model.name,
        env_prefix=env_prefix(model.package), runtime=runtime, vendored=vendored,
        requirement=facts.requirement, runtime_version=facts.version, api_version=facts.api,
        version=__version__)


def _pyproject(model: ir.Model, base: cx.Base, top: str) -> cx.Pyproject:
    dependencies = list(model.dependencies)
    if base.vendored:
        s3 = "boto3>=1.28"
        dependencies[:0] = runtime_facts().server
    else:
        dependencies.insert(0, base.requirement.replace("draftsman-runtime",
                                                        "draftsman-runtime[api]", 1))
        s3 = base.requirement.replace("draftsman-runtime", "draftsman-runtime[s3]", 1)
    return cx.Pyproject(
        header=top, base=base,
        distribution=json.dumps(model.package.replace("_", "-")),
        summary=json.dumps(f"{model.name}: event-sourced service generated by draftsman-gen"),
        dependencies=tuple(json.dumps(d) for d in dependencies),
        s3_requirement=json.dumps(s3),
        package_glob=json.dumps(f"{model.package}*"))


def _readme(model: ir.Model, base: cx.Base, top: str) -> cx.Readme:
    return cx.Readme(
        header=top.lstrip("# "), base=base,
        description=model.description.strip() or f"The {model.name} service.",
        aggregates=tuple(
            cx.ReadmeAggregate(a.name, ", ".join(f.name for f in a.flows) or "-",
                               ", ".join(e.name for e in a.events) or "-")
            for a in model.aggregates),
        commands=", ".join(c.name for c in model.commands) or "none")


def _field(names: Names, owner: str, f: ir.Field) -> cx.Field:
    return cx.Field(
        name=f.name, literal=py(f.name), type=f.type,
        item_class=names.items.get((owner, f.name), ""),
        default=py(f.default) if f.has_default else None,
        pattern=names.patterns[f.pattern] if f.pattern else "",
        auto_fill=f.auto_fill == "uuid")


def _fields(names: Names, owner: str, fields: tuple[ir.Field, ...]) -> tuple[cx.Field, ...]:
    return tuple(_field(names, owner, f) for f in fields)


def _item_classes(names: Names, owner: str,
                  fields: tuple[ir.Field, ...]) -> tuple[cx.ItemClass, ...]:
    """The classes of the items of ObjectList fields (their fields have no items)."""
    return tuple(
        cx.ItemClass(names.items[(owner, f.name)], _fields(names, "", f.fields),
                     py(sorted(x.name for x in f.fields)))
        for f in fields if f.type == "ObjectList")


def _commands(model: ir.Model, names: Names, base: cx.Base) -> cx.Commands:
    used = sorted({x.pattern for c in model.commands for f in c.fields
                   for x in (f, *f.fields) if x.pattern})
    patterns = {p.name: p for p in model.patterns}
    items: list[cx.ItemClass] = []
    commands = []
    for command in model.commands:
        items += _item_classes(names, command.name, command.fields)
        commands.append(cx.Command(
            name=command.name, literal=py(command.name), file=command.loc.file,
            description=comment_lines(command.description),
            fields=_fields(names, command.name, command.fields),
            known=py(sorted(f.name for f in command.fields))))
    return cx.Commands(
        header=header(f"{base.model_label}/commands"), base=base,
        patterns=tuple(cx.PatternConstant(names.patterns[n], py(patterns[n].regex),
                                          patterns[n].loc.file) for n in used),
        items=tuple(items), commands=tuple(commands))


def _expressions(model: ir.Model, names: Names, base: cx.Base) -> OutputFile:
    expressions = tuple(cx.KeyExpression(e.name, e.loc.file, e.parameters, e.expression)
                        for e in model.expressions)
    return OutputFile(f"{names.package}/expressions.py", "package/expressions.py.j2",
                      cx.Expressions(header(f"{base.model_label}/draftsman.yaml"), base,
                                     expressions),
                      black_layout=all(black_canonical(e.expression) for e in expressions))


# -- aggregates ------------------------------------------------------------------------------
def _document(names: Names, agg: ir.Aggregate, agg_ctx: cx.Aggregate, base: cx.Base,
              folder: str) -> cx.Document:
    an = names.aggregates[agg.name]
    fields = _fields(names, agg.name, agg.fields)
    entities = tuple(
        cx.Entity(e.name, py(e.name), an.entities[e.name], e.business_key,
                  _fields(names, "", e.fields))
        for e in agg.entities)
    return cx.Document(
        header=header(f"{folder}/root.yaml"), base=base, aggregate=agg_ctx,
        description=comment_lines(agg.description),
        business_key=agg.business_key, business_key_literal=py(agg.business_key),
        fingerprint_literal=py(fingerprint(agg)), fields=fields, entities=entities,
        needs_field=bool(entities) or any(f.uses_factory(zero=True) for f in fields)
        or any(f.uses_factory(zero=True) for e in entities for f in e.fields))


def fingerprint(agg: ir.Aggregate) -> str:
    """A hash of the document's shape: a snapshot taken under another shape is ignored."""
    parts = [f"{f.name}:{f.type}" for f in agg.fields]
    for ent in agg.entities:
        parts.append(f"{ent.name}:[{','.join(f'{f.name}:{f.type}' for f in ent.fields)}]")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _events(names: Names, agg: ir.Aggregate, agg_ctx: cx.Aggregate, base: cx.Base,
            folder: str) -> cx.Events:
    items: list[cx.ItemClass] = []
    events = []
    for event in agg.events:
        items += _item_classes(names, event.name, event.fields)
        events.append(cx.Event(event.name, py(event.name), event.loc.file,
                               _fields(names, event.name, event.fields)))
    every_field = [f for e in events for f in e.fields] + [f for i in items for f in i.fields]
    return cx.Events(
        header=header(f"{folder}/events"), base=base, aggregate=agg_ctx, items=tuple(items),
        events=tuple(events), members=tuple(e.name for e in agg.events),
        needs_field=any(f.uses_factory(zero=False) for f in every_field))


def _handlers(names: Names, agg: ir.Aggregate, agg_ctx: cx.Aggregate, base: cx.Base,
              folder: str) -> cx.Handlers:
    an = names.aggregates[agg.name]
    fields = {f.name: f for f in agg.fields}
    entities = {e.name: e for e in agg.entities}
    handlers = []
    used_entities: set[str] = set()
    for event in agg.events:
        event_fields = {f.name: f for f in event.fields}
        code: cx.HandlerCode | None = None
        ops: list[cx.HandlerOp] = []
        if isinstance(event.handler, ir.HandlerCode):
            code = cx.HandlerCode(f"{event.loc.file}:{event.handler.line}",
                                  _indented(event.handler.code))
        else:
            for op in event.handler:
                entity = entities.get(op.field)
                entity_class = an.entities[entity.name] if entity is not None else ""
                if entity_class:
                    used_entities.add(entity_class)
                ops.append(_handler_op(op, fields, entity, entity_class, event_fields))
        handlers.append(cx.Handler(event.name, py(event.name), names.handlers[event.name],
                                   event.loc.file, code, tuple(ops)))
    return cx.Handlers(
        header=header(f"{folder}/events"), base=base, aggregate=agg_ctx,
        handlers=tuple(handlers),
        document_imports=tuple(sorted({an.document, *used_entities}, key=import_order)),
        event_imports=tuple(sorted((e.name for e in agg.events), key=import_order)),
        needs_functional_error=any(isinstance(e.handler, ir.HandlerCode) and e.handler.raises
                                   for e in agg.events))


def _handler_op(op: ir.HandlerOp, fields: dict[str, ir.Field], entity: ir.Entity | None,
                entity_class: str, event_fields: dict[str, ir.Field]) -> cx.HandlerOp:
    loc = where(op.loc)
    match op:
        case ir.SetOp():
            copy_list = fields[op.field].type == "StringList"
            return cx.HandlerOp("set", loc, op.field, op.source, copy_list, "", "", ())
        case ir.AddOp():
            return cx.HandlerOp("add", loc, op.field, op.source, False, "", "", ())
        case ir.SubtractOp():
            return cx.HandlerOp("subtract", loc, op.field, op.source, False, "", "", ())
        case ir.ExtendOp() | ir.ReplaceOp():
            assert entity is not None
            copy_fields = tuple(f.name for f in event_fields[op.source].fields
                                if f.name != entity.business_key)
            kind: Literal["extend", "replace"] = (
                "extend" if isinstance(op, ir.ExtendOp) else "replace")
            return cx.HandlerOp(kind, loc, op.field, op.source, False, entity_class,
                                entity.business_key, copy_fields)
        case _:
            assert_never(op)


def _indented(code: str) -> str:
    return textwrap.indent(code, "    ").rstrip("\n")


# -- flows -----------------------------------------------------------------------------------
class _Imports:
    """The names a module imports, by module."""

    def __init__(self) -> None:
        self.modules: dict[str, set[str]] = {}

    def need(self, module: str, name: str) -> None:
        self.modules.setdefault(module, set()).add(name)

    def sections(self, package: str) -> tuple[tuple[cx.Import, ...], tuple[cx.Import, ...]]:
        """(third-party, own package), each in isort's order. A vendored runtime is part of
        the package."""
        third: list[cx.Import] = []
        own: list[cx.Import] = []
        for module in sorted(self.modules, key=import_order):
            entry = cx.Import(module, tuple(sorted(self.modules[module], key=import_order)))
            (own if module.split(".")[0] == package else third).append(entry)
        return tuple(third), tuple(own)


def _flows(model: ir.Model, names: Names, agg: ir.Aggregate, agg_ctx: cx.Aggregate,
           base: cx.Base, folder: str) -> tuple[cx.Flows, bool]:
    """The context of flows.py, and whether it is in black's layout (no code snippets, and
    every expression spelled as black spells it)."""
    pkg = names.package
    imports = _Imports()
    flows = []
    expressions: list[str] = []
    for flow in agg.flows:
        flows.append(_flow(model, names, agg, flow, imports, base.runtime))
        expressions += flow_expressions(flow)
    if agg.flows:
        imports.need(f"{pkg}.{agg_ctx.module}.document", agg_ctx.document_class)
        imports.need(f"{pkg}.{agg_ctx.module}.events", agg_ctx.union_name)
    if any(t.idempotency_key for f in agg.flows for t in f.triggers):
        imports.need(base.runtime, "idempotency_key")
    for name in sorted(called_names(expressions, {e.name for e in model.expressions})):
        imports.need(f"{pkg}.expressions", name)
    runtime_imports, package_imports = imports.sections(pkg)
    context = cx.Flows(
        header=header(f"{folder}/behavior-flows"), base=base, aggregate=agg_ctx,
        flows=tuple(flows),
        needs_any=any(v.type is None for f in flows for v in f.variables),
        runtime_imports=runtime_imports, package_imports=package_imports)
    in_layout = (all(black_canonical(text) for text in expressions)
                 and not any(isinstance(p, ir.InlineCode) for f in agg.flows
                             for p in f.processors))
    return context, in_layout


def _flow(model: ir.Model, names: Names, agg: ir.Aggregate, flow: ir.Flow, imports: _Imports,
          runtime: str) -> cx.Flow:
    pkg = names.package
    fn = names.flow(agg, flow)
    commands = {c.name for c in model.commands}
    owners = {e.name: a for a in model.aggregates for e in a.events}
    variables = [cx.Variable(var.name, var.type) for var in flow.variables]
    triggers = []
    for trig in flow.triggers:
        if trig.source in commands:
            imports.need(f"{pkg}.commands", trig.source)
        else:
            owner = names.aggregates[owners[trig.source].name].module
            imports.need(f"{pkg}.{owner}.events", trig.source)
        triggers.append(_trigger(trig, fn.triggers[trig.source]))
    steps = []
    code_functions = []
    for index, proc in enumerate(flow.processors, start=1):
        step = _step(names, agg, proc, imports, runtime)
        if isinstance(proc, ir.InlineCode):
            function = fn.code[index]
            code_functions.append(cx.CodeFunction(function, where(proc.loc),
                                                  _indented(proc.code)))
            step = cx.CodeStep(where(proc.loc), "", function)
        steps.append(step)
    return cx.Flow(
        name=flow.name, file=flow.loc.file, class_name=fn.class_name, function=fn.function,
        description=comment_lines(flow.description), variables=tuple(variables),
        triggers=tuple(triggers), steps=tuple(steps), code_functions=tuple(code_functions))


def _trigger(trig: ir.Trigger, tn: TriggerNames) -> cx.Trigger:
    match trig.key:
        case ir.KeyField(field=field):
            key_field, key_expression = field, ""
        case ir.KeyByExpression(expression=expression):
            key_field, key_expression = "", expression
        case _:
            assert_never(trig.key)
    mappings = []
    for m in trig.mappings:
        match m:
            case ir.MapField(target=target, source=source):
                mappings.append(cx.Mapping(target, source, ""))
            case ir.MapExpression(target=target, expression=expression):
                mappings.append(cx.Mapping(target, "", expression))
            case _:
                assert_never(m)
    return cx.Trigger(
        source=trig.source, where=where(trig.loc), key_function=tn.key,
        start_function=tn.start, idempotency_function=tn.idempotency, key_field=key_field,
        key_expression=key_expression, idempotency=trig.idempotency_key,
        mappings=tuple(mappings))


def _step(names: Names, agg: ir.Aggregate, proc: ir.Processor, imports: _Imports,
          runtime: str) -> cx.Step:
    pkg = names.package
    module = names.aggregates[agg.name].module
    loc = where(proc.loc)
    match proc:
        case ir.Validator():
            imports.need(runtime, "FunctionalError")
            return cx.ValidatorStep(loc, negate(proc.condition),
                                    fstring(proc.message, proc.placeholders))
        case ir.EmitEvent():
            event = next(e for e in agg.events if e.name == proc.event)
            handler = names.handlers[event.name]
            imports.need(f"{pkg}.{module}.events", event.name)
            imports.need(f"{pkg}.{module}.handlers", handler)
            imports.need(runtime, "check_event")
            types = {f.name: f for f in event.fields}
            assignments = []
            for a in proc.assignments:
                item_class = names.items.get((event.name, a.field), "")
                if types[a.field].type == "ObjectList":
                    imports.need(f"{pkg}.{module}.events", item_class)
                assignments.append(cx.Assignment(a.field, a.expression, item_class))
            return cx.EmitStep(loc, event.name, names.locals[event.name], handler,
                               tuple(assignments))
        case ir.SetVariable():
            return cx.SetStep(loc, proc.name, proc.expression)
        case ir.InlineCode():
            if proc.raises:
                imports.need(runtime, "FunctionalError")
            return cx.CodeStep(loc, "", "")  # the caller names its function
        case ir.LibCall():
            imports.need(f"{pkg}.lib", proc.module)
            return cx.CodeStep(loc, proc.module, proc.function)
        case ir.UpdateKey():
            return cx.UpdateKeyStep(loc, proc.expression, agg.business_key)
        case _:
            assert_never(proc)


# -- registry ----------------------------------------------------------------------------------
def _registry(model: ir.Model, names: Names, base: cx.Base, top: str) -> cx.Registry:
    pkg = names.package
    commands = {c.name for c in model.commands}
    owners = {e.name: a for a in model.aggregates for e in a.events}
    imports = [cx.AliasImport(pkg, "commands", "")] if commands else []
    subscribed = {t.source for a in model.aggregates for f in a.flows for t in f.triggers
                  if t.source in owners}
    event_sources = {owners[name].name for name in subscribed}
    for agg in model.aggregates:
        module = names.aggregates[agg.name].module
        parts = ["document", "handlers"] + (["flows"] if agg.flows else [])
        parts += ["events"] if agg.name in event_sources else []
        imports += [cx.AliasImport(f"{pkg}.{module}", part, f"{module}_{part}")
                    for part in sorted(parts)]
    runtime_names = ["AggregateType", "Reader"] if model.aggregates else []
    runtime_names += ["Registry"] + (["TriggerSpec"] if any(a.flows for a in model.aggregates)
                                     else [])
    runtime_names += ["Mutation"] if model.commands else []
    runtime_names += ["Access"] if model.commands or model.aggregates else []
    runtime_names.sort()
    runtime = cx.Import(base.runtime, tuple(runtime_names))
    if base.vendored:  # the runtime is part of the package: one block, sorted with the rest
        imports.append(cx.AliasImport(base.runtime, ", ".join(runtime_names), ""))
    imports.sort(key=lambda i: import_order(i.module))
    triggers = []
    for agg in model.aggregates:
        an = names.aggregates[agg.name]
        for flow in agg.flows:
            fn = names.flow(agg, flow)
            for trig in flow.triggers:
                tn = fn.triggers[trig.source]
                events_module = ""
                if trig.source not in commands:
                    events_module = names.aggregates[owners[trig.source].name].module + "_events"
                triggers.append(cx.RegistryTrigger(
                    where=where(trig.loc), source=trig.source, source_literal=py(trig.source),
                    events_module=events_module,
                    aggregate=an.constant, flow_literal=py(f"{agg.name}.{flow.name}"),
                    model_file_literal=py(f"{base.model_label}/{flow.loc.file}"),
                    create=flow.create, flows_module=f"{an.module}_flows", key=tn.key,
                    start=tn.start, run=fn.function,
                    idempotency=tn.idempotency if trig.idempotency_key else "",
                    idempotency_ttl=trig.idempotency_ttl))
    return cx.Registry(
        header=top, base=base,
        runtime_imports=() if base.vendored else (runtime,),
        package_imports=tuple(imports),
        literals={"package": py(model.package), "project": py(model.name),
                  "env_prefix": py(base.env_prefix),
                  "generator": py(f"draftsman-gen {__version__}")},
        aggregates=tuple(
            cx.RegistryAggregate(
                name_literal=py(a.name), key_literal=py(a.business_key),
                constant=names.aggregates[a.name].constant,
                module=names.aggregates[a.name].module,
                document_class=names.aggregates[a.name].document,
                snapshot_interval=a.snapshot_interval, event_ttl=a.event_ttl,
                backup_interval=a.backup_interval_days, backup_ttl=a.backup_ttl_days)
            for a in model.aggregates),
        commands=tuple(cx.RegistryCommand(name, py(name)) for name in sorted(commands)),
        triggers=tuple(triggers),
        mutations=tuple(
            cx.RegistryMutation(
                namespace=py(c.graphql_namespace), name=py(c.graphql_name), command=py(c.name),
                mode=py(c.access.mode), role=py(c.access.role) if c.access.role else "",
                username_fields=tuple(py(f.name) for f in c.fields
                                      if f.auto_fill == "username"),
                user_must_match=py(c.user_must_match) if c.user_must_match else "")
            for c in model.commands),
        readers=tuple(
            cx.RegistryReader(aggregate=py(a.name), mode=py(a.query_access.mode),
                              role=py(a.query_access.role) if a.query_access.role else "",
                              entities=tuple(py(e.name) for e in a.entities))
            for a in model.aggregates))


# -- the API schema ----------------------------------------------------------------------------
_GRAPHQL_SCALARS = {"String": "String", "Int": "Int", "Float": "Float", "Boolean": "Boolean",
                    "StringList": "[String!]"}


def gql_string(text: str) -> str:
    """A GraphQL string literal (JSON's escapes are GraphQL's)."""
    return json.dumps(" ".join(text.split()))


def _gql_input_field(gn: GraphqlNames, owner: str, f: ir.Field) -> cx.GqlField:
    if f.type == "ObjectList":
        type_ref = f"[{gn.input_items[(owner, f.name)]}!]"
    else:
        type_ref = _GRAPHQL_SCALARS[f.type]
    default = f" (default: {json.dumps(f.default)})" if f.has_default else ""
    pattern = f" (pattern {f.pattern})" if f.pattern else ""
    described = gql_string(f"{f.type}{pattern}{default}") if default or pattern else ""
    required = not f.has_default and f.auto_fill is None
    return cx.GqlField(f.name, type_ref + ("!" if required else ""), described)


def _graphql(model: ir.Model, names: Names, base: cx.Base, top: str) -> cx.GraphqlSchema:
    gn = names.graphql
    inputs = []
    by_namespace: dict[str, list[cx.GqlMutation]] = {}
    for c in model.commands:
        fields = tuple(_gql_input_field(gn, c.name, f) for f in c.fields if f.auto_fill is None)
        for f in c.fields:
            if f.type == "ObjectList":
                inputs.append(cx.GqlType(gn.input_items[(c.name, f.name)], tuple(
                    _gql_input_field(gn, c.name, item) for item in f.fields)))
        if fields:
            inputs.append(cx.GqlType(gn.inputs[c.name], fields))
        access = c.access.mode + (f" ({c.access.role})" if c.access.role else "")
        text = (c.description.strip() + " " if c.description.strip() else "") + (
            f"Submits {c.name} ({c.loc.file}); access: {access}.")
        by_namespace.setdefault(c.graphql_namespace, []).append(
            cx.GqlMutation(c.graphql_name, gn.inputs[c.name] if fields else "", gql_string(text)))
    namespaces = tuple(
        cx.GqlNamespace(ns, gn.namespaces[ns], tuple(sorted(muts, key=lambda m: m.name)))
        for ns, muts in sorted(by_namespace.items()))
    documents, filters, readers = [], [], []
    for a in model.aggregates:
        shown = [cx.GqlField(f.name, _GRAPHQL_SCALARS[f.type] + "!") for f in a.fields]
        shown += [cx.GqlField(e.name, f"[{gn.entities[(a.name, e.name)]}!]!")
                  for e in a.entities]
        documents.append(cx.GqlType(gn.documents[a.name], tuple(shown),
                                    gql_string(a.description.strip() or
                                               f"The document of {a.name} ({a.loc.file}).")))
        for e in a.entities:
            documents.append(cx.GqlType(gn.entities[(a.name, e.name)], tuple(
                cx.GqlField(f.name, _GRAPHQL_SCALARS[f.type] + "!") for f in e.fields)))
        filters.append(cx.GqlType(gn.filters[a.name], tuple(
            cx.GqlField(f.name, f"{f.type}Filter") for f in a.fields
            if f.type in ("String", "Int", "Float", "Boolean"))))
        access = a.query_access.mode + (f" ({a.query_access.role})" if a.query_access.role
                                        else "")
        readers.append(cx.GqlReader(
            a.name, gn.readers[a.name], gn.documents[a.name], gn.filters[a.name],
            gn.pages[a.name], gql_string(f"Reads {a.name} instances; access: {access}.")))
    return cx.GraphqlSchema(top, base, tuple(inputs), namespaces, tuple(readers),
                            tuple(documents), tuple(filters))


# -- tests -------------------------------------------------------------------------------------
def _tests(names: Names, agg: ir.Aggregate, flow: ir.Flow, base: cx.Base) -> cx.Tests:
    fn = names.flow(agg, flow)
    cases = []
    for case in flow.test_cases:
        case_names = fn.cases[case.name]
        cases.append(cx.Case(
            name=case.name, line=case.loc.line, where=where(case.loc),
            test=case_names.test, replay=case_names.replay, trigger=case.trigger,
            input=dict(case.input),
            state=dict(case.state) if case.state is not None else None,
            error=case.expected_error,
            expected=tuple((e.event, dict(e.fields)) for e in case.expected),
            pk=case.expected_state_pk,
            expected_state=dict(case.expected_state)))
    return cx.Tests(
        header=header(f"{base.model_label}/{flow.loc.file}"), base=base, flow=flow.name,
        file=flow.loc.file, aggregate=agg.name,
        model_file=f"{base.model_label}/{flow.loc.file}", cases=tuple(cases))
