"""The intermediate representation: frozen, typed, resolved. The back end reads only this.

Names keep the model's spelling (validation guarantees they are safe identifiers); the names
of generated Python (modules, classes, functions) are not here: lower.py decides them.
Expressions are canonical Python source (re-printed from their syntax tree, so comments or
line breaks cannot leak into code). Every kind of processor and handler operation is a class
of its own; the back end handles them with `match` and `assert_never`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]

ScalarType = Literal["String", "Int", "Float", "Boolean", "StringList"]
FieldType = Literal["String", "Int", "Float", "Boolean", "StringList", "ObjectList"]
SCALAR_TYPES: tuple[ScalarType, ...] = ("String", "Int", "Float", "Boolean", "StringList")


@dataclass(frozen=True)
class Loc:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    has_default: bool = False
    default: JsonValue = None
    pattern: str | None = None  # name of a pattern (String fields)
    auto_fill: Literal["uuid", "username"] | None = None  # String fields
    fields: tuple[Field, ...] = ()  # the items' fields (ObjectList)

    @property
    def required(self) -> bool:
        """A payload must carry it. A username is filled by the API from the caller's token;
        other callers (the CLI, test cases) give it like any field."""
        return not self.has_default and self.auto_fill != "uuid"


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str  # with {{references}} expanded (included patterns lose their anchors)
    loc: Loc


@dataclass(frozen=True)
class KeyExpression:
    name: str
    parameters: tuple[str, ...]
    expression: str
    loc: Loc


AuthMode = Literal["anonymous", "authenticated", "role"]


@dataclass(frozen=True)
class Access:
    """Who may call an API operation: an API key, any valid token, or a token with a role."""

    mode: AuthMode = "authenticated"
    role: str = ""


@dataclass(frozen=True)
class Command:
    name: str
    namespace: str
    fields: tuple[Field, ...]
    loc: Loc
    description: str = ""
    graphql_namespace: str = ""  # the mutation's namespace type in the API
    graphql_name: str = ""  # the mutation inside it
    access: Access = Access()
    user_must_match: str = ""  # a String field that must equal the caller's username


@dataclass(frozen=True)
class Entity:
    name: str  # the document field holding the collection
    business_key: str
    fields: tuple[Field, ...]


# -- event handlers -----------------------------------------------------------------------
@dataclass(frozen=True)
class SetOp:
    """document.<field> = event.<source>"""

    field: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class AddOp:
    """document.<field> += event.<source>"""

    field: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class SubtractOp:
    """document.<field> -= event.<source>"""

    field: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class ExtendOp:
    """Upsert the items of event.<source> into the entity collection document.<field>."""

    field: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class ReplaceOp:
    """Empty the entity collection document.<field>, then upsert the items of event.<source>."""

    field: str
    source: str
    loc: Loc


HandlerOp = SetOp | AddOp | SubtractOp | ExtendOp | ReplaceOp


@dataclass(frozen=True)
class HandlerCode:
    """A code handler: statements over `document` and `event`."""

    code: str
    line: int  # where the code starts in the event file
    raises: bool  # mentions FunctionalError


@dataclass(frozen=True)
class Event:
    name: str
    aggregate: str
    fields: tuple[Field, ...]
    handler: tuple[HandlerOp, ...] | HandlerCode
    loc: Loc


# -- behavior flows -----------------------------------------------------------------------
@dataclass(frozen=True)
class KeyField:
    field: str


@dataclass(frozen=True)
class KeyByExpression:
    expression: str  # over `event`


@dataclass(frozen=True)
class MapField:
    target: str  # flow variable
    source: str  # field of the trigger source


@dataclass(frozen=True)
class MapExpression:
    target: str  # flow variable
    expression: str  # over `event`


Mapping = MapField | MapExpression


@dataclass(frozen=True)
class Trigger:
    source: str
    source_kind: Literal["command", "event"]
    source_aggregate: str | None  # the owner of a domain event
    key: KeyField | KeyByExpression
    mappings: tuple[Mapping, ...]
    idempotency_key: tuple[str, ...]
    idempotency_ttl: int
    loc: Loc


@dataclass(frozen=True)
class Assignment:
    field: str
    expression: str


@dataclass(frozen=True)
class Validator:
    loc: Loc
    condition: str
    message: str  # f-string body, braces escaped, placeholders kept
    placeholders: bool


@dataclass(frozen=True)
class EmitEvent:
    loc: Loc
    event: str
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True)
class SetVariable:
    loc: Loc
    name: str
    expression: str


@dataclass(frozen=True)
class InlineCode:
    loc: Loc
    code: str
    raises: bool  # mentions FunctionalError


@dataclass(frozen=True)
class LibCall:
    loc: Loc
    module: str
    function: str


@dataclass(frozen=True)
class UpdateKey:
    loc: Loc
    expression: str


Processor = Validator | EmitEvent | SetVariable | InlineCode | LibCall | UpdateKey


@dataclass(frozen=True)
class ExpectedEvent:
    event: str
    fields: tuple[tuple[str, JsonValue], ...]


@dataclass(frozen=True)
class TestCase:
    name: str
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
    type: ScalarType | None  # certain from every source that assigns it, else None (Any)


@dataclass(frozen=True)
class Flow:
    name: str
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
    query_access: Access = Access()  # who may read instances through the API


@dataclass(frozen=True)
class LibModule:
    name: str
    source: str
    loc: Loc


@dataclass(frozen=True)
class Model:
    name: str
    package: str
    package_loc: Loc  # where the package name is set (or derived from)
    description: str
    dependencies: tuple[str, ...]
    commands: tuple[Command, ...]
    aggregates: tuple[Aggregate, ...]
    patterns: tuple[Pattern, ...]
    expressions: tuple[KeyExpression, ...]
    lib_modules: tuple[LibModule, ...]
