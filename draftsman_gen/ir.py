"""The intermediate representation: frozen, typed, fully resolved. Later stages read only this.

Names keep the model's spelling (validation guarantees they are safe Python identifiers);
`snake` fields carry the derived module and function names. Expressions are canonical Python
source (re-printed from their syntax tree, so comments or line breaks cannot leak into code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]


@dataclass(frozen=True)
class Loc:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # String | Int | Float | Boolean | StringList | ObjectList
    has_default: bool = False
    default: JsonValue = None
    pattern: str | None = None  # name of a pattern
    auto_fill: str | None = None  # "uuid"
    fields: tuple[Field, ...] = ()  # for ObjectList
    item_class: str = ""  # class name of ObjectList items

    @property
    def required(self) -> bool:
        return not self.has_default and self.auto_fill is None


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str  # with {{references}} expanded
    loc: Loc


@dataclass(frozen=True)
class KeyExpression:
    name: str
    parameters: tuple[str, ...]
    expression: str
    loc: Loc


@dataclass(frozen=True)
class Command:
    name: str
    namespace: str
    fields: tuple[Field, ...]
    loc: Loc
    description: str = ""


@dataclass(frozen=True)
class Entity:
    name: str  # the document field holding the collection
    class_name: str
    business_key: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class HandlerOp:
    field: str  # document field
    op: str  # set | add | subtract | extend | replace
    source: str  # event field
    loc: Loc


@dataclass(frozen=True)
class Event:
    name: str
    snake: str
    aggregate: str
    fields: tuple[Field, ...]
    ops: tuple[HandlerOp, ...]
    code: str | None
    loc: Loc
    code_line: int = 0  # where the handler code starts in the event file


@dataclass(frozen=True)
class Mapping:
    target: str  # flow variable
    source_field: str | None  # a field of the trigger source, or
    expression: str | None  # an expression over `event`


@dataclass(frozen=True)
class Trigger:
    source: str
    source_kind: str  # command | event
    source_aggregate: str | None  # for domain events
    key_field: str | None
    key_expression: str | None
    mappings: tuple[Mapping, ...]
    idempotency_key: tuple[str, ...]
    idempotency_ttl: int
    loc: Loc


@dataclass(frozen=True)
class Assignment:
    field: str
    expression: str


@dataclass(frozen=True)
class Processor:
    kind: str  # emit-event | validator | set-variable | code | update-key
    loc: Loc
    event: str = ""  # emit-event
    assignments: tuple[Assignment, ...] = ()  # emit-event
    condition: str = ""  # validator
    message: str = ""  # validator: f-string body, braces escaped, placeholders kept
    message_placeholders: bool = False
    name: str = ""  # set-variable
    expression: str = ""  # set-variable, update-key
    inline: str = ""  # code
    module: str = ""  # code: lib module
    function: str = ""  # code: lib function


@dataclass(frozen=True)
class ExpectedEvent:
    event: str
    fields: tuple[tuple[str, JsonValue], ...]


@dataclass(frozen=True)
class TestCase:
    name: str
    snake: str
    trigger: str
    input: tuple[tuple[str, JsonValue], ...]
    state: tuple[tuple[str, JsonValue], ...] | None
    expected: tuple[ExpectedEvent, ...]
    expected_state_pk: str | None
    expected_state: tuple[tuple[str, JsonValue], ...]
    expected_error: str | None
    loc: Loc


@dataclass(frozen=True)
class Variable:
    name: str
    type: str | None  # a field type when every source agrees, else None (Any)


@dataclass(frozen=True)
class Flow:
    name: str
    snake: str
    aggregate: str
    create: bool
    triggers: tuple[Trigger, ...]
    variables: tuple[Variable, ...]
    processors: tuple[Processor, ...]
    test_cases: tuple[TestCase, ...]
    loc: Loc
    description: str = ""


@dataclass(frozen=True)
class Aggregate:
    name: str
    snake: str
    subdomain: str
    business_key: str
    fields: tuple[Field, ...]
    entities: tuple[Entity, ...]
    event_ttl: int
    snapshot_interval: int
    backup_interval_days: int
    backup_ttl_days: int
    events: tuple[Event, ...]
    flows: tuple[Flow, ...]
    loc: Loc
    description: str = ""


@dataclass(frozen=True)
class LibModule:
    name: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class Model:
    name: str
    package: str
    description: str
    dependencies: tuple[str, ...]
    commands: tuple[Command, ...]
    aggregates: tuple[Aggregate, ...]
    patterns: tuple[Pattern, ...]
    expressions: tuple[KeyExpression, ...]
    lib_modules: tuple[LibModule, ...]
