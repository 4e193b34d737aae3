"""The cells of the pages: fields, access rules, triggers, processors, handlers, test cases.

Each function turns one IR element into escaped Markdown (`Md`) and says what it does in
words; links to other elements are relative to the page the cell appears on (`page`).
"""

from __future__ import annotations

from typing import assert_never

from draftsman_gen import ir
from draftsman_gen.modeldocs import contexts as cx
from draftsman_gen.modeldocs import paths
from draftsman_gen.modeldocs.escape import NONE, Md, code, code_block, join, name, text, value
from draftsman_gen.modeldocs.relations import FlowRef, Relations

# What a new document holds in a field without a default (docs/model-language.md).
ZERO: dict[ir.FieldType, ir.JsonValue] = {
    "String": "", "Int": 0, "Float": 0.0, "Boolean": False, "StringList": [], "ObjectList": [],
}


# -- fields -------------------------------------------------------------------------------
def field_rows(fields: tuple[ir.Field, ...], key: str = "", key_note: str = "business key",
               initial: bool = False, prefix: str = "") -> tuple[cx.FieldRow, ...]:
    """Rows of a document (`initial`: a missing default is the type's zero), an entity or an
    event; an ObjectList's item fields follow it as `list[].field`."""
    rows: list[cx.FieldRow] = []
    for field in fields:
        if field.has_default:
            default = value(field.default)
        elif initial:
            default = Md(f"{value(ZERO[field.type])} (zero)")
        else:
            default = NONE
        note = text(key_note) if field.name == key and not prefix else NONE
        rows.append(cx.FieldRow(code(prefix + field.name), text(field.type), default, note))
        rows.extend(field_rows(field.fields, prefix=f"{prefix}{field.name}[]."))
    return tuple(rows)


def document_rows(page: str, agg: ir.Aggregate) -> tuple[cx.FieldRow, ...]:
    """The document's fields, then its entity collections (dictionaries keyed by entity key)."""
    collections = tuple(
        cx.FieldRow(name(e.name), Md(f"entities, keyed by {name(e.business_key)}"),
                    Md(f"{value({})} (zero)"),
                    paths.to(page, page, "entity", e.name, Md("the entries")))
        for e in agg.entities)
    return field_rows(agg.fields, agg.business_key, initial=True) + collections


def entity_rows(entity: ir.Entity) -> tuple[cx.FieldRow, ...]:
    return field_rows(entity.fields, entity.business_key, "entity key", initial=True)


AUTO_FILL = {
    "uuid": "a new UUID when missing or empty",
    "username": "the caller's username (in the API)",
}


def command_field_rows(command: ir.Command, rel: Relations, fields: tuple[ir.Field, ...] = (),
                       prefix: str = "") -> tuple[cx.CommandFieldRow, ...]:
    rows: list[cx.CommandFieldRow] = []
    for field in fields or command.fields:
        pattern = NONE
        if field.pattern:
            regex = rel.patterns[field.pattern].regex
            pattern = Md(f"{name(field.pattern)}: {code(regex)}")
        auto_fill = text(f"{field.auto_fill}: {AUTO_FILL[field.auto_fill]}") if field.auto_fill \
            else NONE
        rows.append(cx.CommandFieldRow(
            code(prefix + field.name), text(field.type), Md("yes" if field.required else "no"),
            value(field.default) if field.has_default else NONE, pattern, auto_fill))
        if field.fields:
            rows.extend(command_field_rows(command, rel, field.fields,
                                           f"{prefix}{field.name}[]."))
    return tuple(rows)


# -- access -------------------------------------------------------------------------------
def access(rule: ir.Access, user_must_match: str = "") -> Md:
    match rule.mode:
        case "anonymous":
            said = Md("anonymous (any client with an API key, or with a valid token)")
        case "authenticated":
            said = Md("authenticated (any valid token)")
        case "role":
            said = Md(f"role {code(rule.role)} (a valid token that lists it)")
        case _:
            assert_never(rule.mode)
    if user_must_match:
        said = Md(f"{said}; the caller's username must equal {name(user_must_match)}")
    return said


def api(command: ir.Command, input_type: str) -> Md:
    return Md(f"{code(f'{command.graphql_namespace}.{command.graphql_name}')} "
              f"(input {code(input_type)})")


# -- triggers -----------------------------------------------------------------------------
def key(trigger: ir.Trigger) -> Md:
    match trigger.key:
        case ir.KeyField(field=field):
            return Md(f"field {name(field)}")
        case ir.KeyByExpression(expression=expression):
            return code(expression)
        case _:
            assert_never(trigger.key)


def key_label(trigger: ir.Trigger) -> str:
    """The key as plain text, for a diagram's edge label (escaped by the diagram)."""
    match trigger.key:
        case ir.KeyField(field=field):
            return f"key: {field}"
        case ir.KeyByExpression(expression=expression):
            return f"key: {expression}"
        case _:
            assert_never(trigger.key)


def mapping(mappings: tuple[ir.Mapping, ...]) -> Md:
    parts: list[Md] = []
    for item in mappings:
        match item:
            case ir.MapField(target=target, source=source):
                parts.append(Md(f"{name(target)} \u2190 {name(source)}"))
            case ir.MapExpression(target=target, expression=expression):
                parts.append(Md(f"{name(target)} \u2190 {code(expression)}"))
            case _:
                assert_never(item)
    return join(parts, "; ") if parts else NONE


def idempotency(trigger: ir.Trigger) -> Md:
    if not trigger.idempotency_key:
        return NONE
    kept = "forever" if trigger.idempotency_ttl < 0 else seconds(trigger.idempotency_ttl)
    return Md(f"key {join(name(f) for f in trigger.idempotency_key)}, remembered {kept}")


def days(count: int) -> str:
    return "day" if count == 1 else f"{count} days"


def seconds(count: int) -> str:
    days = f" ({count // 86400} days)" if count and count % 86400 == 0 else ""
    return f"{count} seconds{days}"


def source(page: str, trigger: ir.Trigger, rel: Relations) -> Md:
    """The trigger's source: a command (documented on this page) or another aggregate's event."""
    if trigger.source_kind == "command":
        return Md(f"command {paths.to(page, page, 'command', trigger.source)}")
    owner = rel.owners[trigger.source]
    target = paths.aggregate_page(owner)
    return Md(f"event {paths.to(page, target, 'event', trigger.source)} of "
              f"{paths.to_page(page, target, name(owner.name))}")


def trigger_row(page: str, trigger: ir.Trigger, rel: Relations) -> cx.TriggerRow:
    return cx.TriggerRow(source(page, trigger, rel), key(trigger), mapping(trigger.mappings),
                         idempotency(trigger))


def flow_link(page: str, ref: FlowRef) -> Md:
    label = name(f"{ref.aggregate.name}.{ref.flow.name}")
    return paths.to(page, paths.aggregate_page(ref.aggregate), "flow", ref.flow.name, label)


# -- processors ---------------------------------------------------------------------------
def processor_rows(page: str, flow: ir.Flow) -> tuple[tuple[cx.ProcessorRow, ...],
                                                       tuple[cx.CodeBlock, ...]]:
    """The processors in order, and the inline code blocks shown below their table."""
    rows: list[cx.ProcessorRow] = []
    blocks: list[cx.CodeBlock] = []
    for number, processor in enumerate(flow.processors, 1):
        match processor:
            case ir.Validator(condition=condition, message=message):
                rows.append(cx.ProcessorRow(number, Md("validator"), Md(
                    f"requires {code(condition)}, else fails with {code(message)}")))
            case ir.EmitEvent(event=event, assignments=assignments):
                fields = join((Md(f"{name(a.field)} = {code(a.expression)}")
                               for a in assignments), "; ")
                rows.append(cx.ProcessorRow(
                    number, Md(f"emit-event {paths.to(page, page, 'event', event)}"),
                    fields or NONE))
            case ir.SetVariable(name=variable, expression=expression):
                rows.append(cx.ProcessorRow(number, Md("set-variable"),
                                            Md(f"{name(variable)} = {code(expression)}")))
            case ir.InlineCode(code=source, raises=raises):
                fence, body = code_block(source)
                blocks.append(cx.CodeBlock(Md(f"Processor {number}, inline code:"), fence, body))
                may = "; may reject with FunctionalError" if raises else ""
                rows.append(cx.ProcessorRow(number, Md("code (inline)"),
                                            text(f"Python, below{may}")))
            case ir.LibCall(module=module, function=function):
                rows.append(cx.ProcessorRow(number, Md("code (lib)"), Md(
                    f"{code(f'{function}(flow)')} in {code(f'lib/{module}.py')}")))
            case ir.UpdateKey(expression=expression):
                rows.append(cx.ProcessorRow(number, Md("update-key"),
                                            Md(f"the new business key is {code(expression)}")))
            case _:
                assert_never(processor)
    return tuple(rows), tuple(blocks)


def variable_rows(flow: ir.Flow) -> tuple[cx.VariableRow, ...]:
    return tuple(cx.VariableRow(name(v.name), text(v.type) if v.type else Md("any"))
                 for v in flow.variables)


# -- event handlers -----------------------------------------------------------------------
def handler_rows(event: ir.Event, agg: ir.Aggregate) -> tuple[cx.HandlerRow, ...]:
    if isinstance(event.handler, ir.HandlerCode):
        return ()
    keys = {entity.name: entity.business_key for entity in agg.entities}
    rows: list[cx.HandlerRow] = []
    for op in event.handler:
        match op:
            case ir.SetOp(field=field, source=src):
                change = Md(f"set to {name(src)}")
            case ir.AddOp(field=field, source=src):
                change = Md(f"increased by {name(src)}")
            case ir.SubtractOp(field=field, source=src):
                change = Md(f"decreased by {name(src)}")
            case ir.ExtendOp(field=field, source=src):
                change = Md(f"the items of {name(src)} upserted by {name(keys[field])}")
            case ir.ReplaceOp(field=field, source=src):
                change = Md(f"emptied, then the items of {name(src)} upserted by "
                            f"{name(keys[field])}")
            case _:
                assert_never(op)
        rows.append(cx.HandlerRow(name(field), change))
    return tuple(rows)


def handler_code(event: ir.Event) -> cx.CodeBlock | None:
    if not isinstance(event.handler, ir.HandlerCode):
        return None
    fence, body = code_block(event.handler.code)
    return cx.CodeBlock(Md("Python, with `document` and `event`:"), fence, body)


def changed_fields(event: ir.Event) -> str:
    """What the handler changes, for a diagram's edge label (plain text)."""
    if isinstance(event.handler, ir.HandlerCode):
        return "code"
    return ", ".join(dict.fromkeys(op.field for op in event.handler))


# -- test cases ---------------------------------------------------------------------------
def case_row(case: ir.TestCase) -> cx.CaseRow:
    state = value(dict(case.state)) if case.state is not None else NONE
    return cx.CaseRow(name(case.name), name(case.trigger), state, value(dict(case.input)),
                      expects(case))


def expects(case: ir.TestCase) -> Md:
    if case.expected_error is not None:
        if not case.expected_error:
            return Md("fails with any functional error")
        return Md(f"fails with a message containing {code(case.expected_error)}")
    parts: list[Md] = []
    if case.expected:
        parts.append(Md("emits " + join(
            (Md(f"{name(e.event)} with {value(dict(e.fields))}") if e.fields else name(e.event)
             for e in case.expected), ", then ")))
    if case.expected_state_pk is not None or case.expected_state:
        where = f" of {code(case.expected_state_pk)}" if case.expected_state_pk is not None \
            else ""
        parts.append(Md(f"the state{where} includes {value(dict(case.expected_state))}"))
    return join(parts, "; ")
