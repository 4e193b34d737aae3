"""The typed contexts templates read: one class per template, holding values, not code.

Names come from lower.py, expressions from the IR (canonical model text), literals from
layout.py; how they are put together into statements is the templates' business (with the
macros in templates/macros.j2). A context holds no IR object: templates never see the IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from draftsman_gen.ir import FieldType, ScalarType


@dataclass(frozen=True)
class Base:
    """What every template of a package may print."""

    model_label: str  # the model folder's name, in headers and test paths
    package: str
    project: str
    env_prefix: str
    runtime: str  # the module path of the runtime: vendored into the package or not
    vendored: bool
    requirement: str  # pip requirement of the runtime
    runtime_version: str
    api_version: int
    version: str  # of draftsman-gen


@dataclass(frozen=True)
class Field:
    """One field of a command, event, document, entity or item class."""

    name: str
    literal: str  # the name as a string literal
    type: FieldType
    item_class: str  # ObjectList: the class of its items; else ""
    default: str | None  # the default as a Python literal; None: no default
    pattern: str  # the pattern constant (commands), or ""
    auto_fill: bool  # auto-fill: uuid (a username is an ordinary field outside the API)

    @property
    def list_default(self) -> bool:
        return self.default is not None and self.default.startswith("[")

    def uses_factory(self, zero: bool) -> bool:
        """Whether its dataclass field needs `field(default_factory=...)`."""
        if self.default is not None:
            return self.list_default
        return zero and self.type in ("StringList", "ObjectList")


@dataclass(frozen=True)
class ItemClass:
    class_name: str
    fields: tuple[Field, ...]
    known: str  # the field names, as a sorted list literal


@dataclass(frozen=True)
class Entity:
    name: str  # the document field holding the collection
    literal: str
    class_name: str
    key: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Plain:
    """A file whose template needs only the package facts."""

    header: str
    base: Base


@dataclass(frozen=True)
class LibModule:
    header: str
    source: str


@dataclass(frozen=True)
class Pyproject:
    header: str
    base: Base
    distribution: str  # literals
    summary: str
    dependencies: tuple[str, ...]
    s3_requirement: str
    package_glob: str


@dataclass(frozen=True)
class ReadmeAggregate:
    name: str
    flows: str
    events: str


@dataclass(frozen=True)
class Readme:
    header: str
    base: Base
    description: str
    aggregates: tuple[ReadmeAggregate, ...]
    commands: str


@dataclass(frozen=True)
class PackageInit:
    header: str
    base: Base
    description: tuple[str, ...]  # comment lines


# -- commands and expressions ----------------------------------------------------------------
@dataclass(frozen=True)
class PatternConstant:
    constant: str
    regex: str  # literal
    file: str


@dataclass(frozen=True)
class Command:
    name: str
    literal: str
    file: str
    description: tuple[str, ...]
    fields: tuple[Field, ...]
    known: str


@dataclass(frozen=True)
class Commands:
    header: str
    base: Base
    patterns: tuple[PatternConstant, ...]
    items: tuple[ItemClass, ...]
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class KeyExpression:
    name: str
    file: str
    parameters: tuple[str, ...]
    expression: str


@dataclass(frozen=True)
class Expressions:
    header: str
    base: Base
    expressions: tuple[KeyExpression, ...]


# -- one aggregate ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Aggregate:
    """The names every file of an aggregate uses."""

    name: str
    module: str
    document_class: str
    union_name: str


@dataclass(frozen=True)
class Document:
    header: str
    base: Base
    aggregate: Aggregate
    description: tuple[str, ...]
    business_key: str
    business_key_literal: str
    fingerprint_literal: str
    fields: tuple[Field, ...]
    entities: tuple[Entity, ...]
    needs_field: bool


@dataclass(frozen=True)
class Event:
    name: str
    literal: str
    file: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Events:
    header: str
    base: Base
    aggregate: Aggregate
    items: tuple[ItemClass, ...]
    events: tuple[Event, ...]
    members: tuple[str, ...]  # event class names, for the union
    needs_field: bool


@dataclass(frozen=True)
class HandlerOp:
    kind: Literal["set", "add", "subtract", "extend", "replace"]
    where: str
    field: str  # document field
    source: str  # event field
    copy_list: bool  # set: the value is a list, copied
    entity_class: str  # extend / replace
    key: str  # extend / replace: the entity key
    copy_fields: tuple[str, ...]  # extend / replace: the other fields of the items


@dataclass(frozen=True)
class HandlerCode:
    where: str
    body: str  # indented into the function


@dataclass(frozen=True)
class Handler:
    event: str
    literal: str
    function: str
    file: str
    code: HandlerCode | None
    ops: tuple[HandlerOp, ...]


@dataclass(frozen=True)
class Handlers:
    header: str
    base: Base
    aggregate: Aggregate
    handlers: tuple[Handler, ...]
    document_imports: tuple[str, ...]
    event_imports: tuple[str, ...]
    needs_functional_error: bool


# -- flows -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    module: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Variable:
    name: str
    type: ScalarType | None  # None: of a type only code knows (Any)


@dataclass(frozen=True)
class Mapping:
    target: str
    source: str  # a field of the trigger source, or ""
    expression: str  # else an expression over `event`


@dataclass(frozen=True)
class Trigger:
    source: str
    where: str
    key_function: str
    start_function: str
    idempotency_function: str
    key_field: str  # the business key is this field of the source, or ""
    key_expression: str  # else this expression over `event`
    idempotency: tuple[str, ...]  # the fields of its idempotency key
    mappings: tuple[Mapping, ...]


@dataclass(frozen=True)
class Assignment:
    field: str
    expression: str
    item_class: str  # ObjectList: items are converted with <item_class>.list_from


@dataclass(frozen=True)
class ValidatorStep:
    where: str
    failed: str  # the negated condition
    message: str  # a string literal
    kind: Literal["validator"] = "validator"


@dataclass(frozen=True)
class EmitStep:
    where: str
    event: str
    local: str
    handler: str
    assignments: tuple[Assignment, ...]
    kind: Literal["emit-event"] = "emit-event"


@dataclass(frozen=True)
class SetStep:
    where: str
    name: str
    expression: str
    kind: Literal["set-variable"] = "set-variable"


@dataclass(frozen=True)
class CodeStep:
    where: str
    module: str  # a lib module, or "" for inline code
    function: str  # the lib function, or the inline code's function
    kind: Literal["code"] = "code"


@dataclass(frozen=True)
class UpdateKeyStep:
    where: str
    expression: str
    key_field: str  # the document's business-key field, which follows the new key
    kind: Literal["update-key"] = "update-key"


Step = ValidatorStep | EmitStep | SetStep | CodeStep | UpdateKeyStep


@dataclass(frozen=True)
class CodeFunction:
    function: str
    where: str
    body: str  # indented into the function


@dataclass(frozen=True)
class Flow:
    name: str
    file: str
    class_name: str
    function: str
    description: tuple[str, ...]
    variables: tuple[Variable, ...]
    triggers: tuple[Trigger, ...]
    steps: tuple[Step, ...]
    code_functions: tuple[CodeFunction, ...]


@dataclass(frozen=True)
class Flows:
    header: str
    base: Base
    aggregate: Aggregate
    flows: tuple[Flow, ...]
    needs_any: bool
    runtime_imports: tuple[Import, ...]
    package_imports: tuple[Import, ...]


# -- registry ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryAggregate:
    name_literal: str
    key_literal: str
    constant: str
    module: str
    document_class: str
    snapshot_interval: int
    event_ttl: int
    backup_interval: int
    backup_ttl: int


@dataclass(frozen=True)
class RegistryTrigger:
    where: str
    source: str
    source_literal: str
    events_module: str  # the alias of the events module of a domain event source; "" for a command
    aggregate: str  # constant
    flow_literal: str
    model_file_literal: str
    create: bool
    flows_module: str  # the alias of the flows module
    key: str  # function names in it
    start: str
    run: str
    idempotency: str  # "" without an idempotency key
    idempotency_ttl: int


@dataclass(frozen=True)
class AliasImport:
    module: str
    name: str
    alias: str  # "" for none


@dataclass(frozen=True)
class RegistryCommand:
    name: str
    literal: str


@dataclass(frozen=True)
class Registry:
    header: str
    base: Base
    runtime_imports: tuple[Import, ...]
    package_imports: tuple[AliasImport, ...]
    literals: dict[str, str]  # package, project, env_prefix, generator
    aggregates: tuple[RegistryAggregate, ...]
    commands: tuple[RegistryCommand, ...]
    triggers: tuple[RegistryTrigger, ...]
    mutations: tuple[RegistryMutation, ...]
    readers: tuple[RegistryReader, ...]


# -- tests -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    line: int
    where: str
    test: str  # function names
    replay: str
    trigger: str
    input: object  # JSON values, laid out by the template (layout.assign)
    state: object | None
    error: str | None
    expected: tuple[tuple[str, object], ...]  # (event, fields)
    pk: str | None
    expected_state: object


@dataclass(frozen=True)
class Tests:
    header: str
    base: Base
    flow: str
    file: str
    aggregate: str  # names, for the Flow(...) literal
    model_file: str
    cases: tuple[Case, ...]


# -- the API: registry entries and schema.graphql ------------------------------------------------
@dataclass(frozen=True)
class RegistryMutation:
    namespace: str  # literals
    name: str
    command: str
    mode: str
    role: str  # "" for none
    username_fields: tuple[str, ...]
    user_must_match: str  # "" for none


@dataclass(frozen=True)
class RegistryReader:
    aggregate: str  # literals
    mode: str
    role: str
    entities: tuple[str, ...]


@dataclass(frozen=True)
class GqlField:
    name: str
    type: str  # a GraphQL type reference: String!, [AccountLineItem!]!
    description: str = ""  # a GraphQL string literal, or ""


@dataclass(frozen=True)
class GqlType:
    name: str
    fields: tuple[GqlField, ...]
    description: str = ""  # a GraphQL string literal, or ""


@dataclass(frozen=True)
class GqlMutation:
    name: str
    input_type: str  # "" when the command takes no input from the client
    description: str  # a GraphQL string literal


@dataclass(frozen=True)
class GqlNamespace:
    field: str
    type: str
    mutations: tuple[GqlMutation, ...]


@dataclass(frozen=True)
class GqlReader:
    field: str  # Query.<Aggregate>
    type: str  # AccountQueries
    document: str
    filter: str
    page: str
    description: str  # a GraphQL string literal


@dataclass(frozen=True)
class GraphqlSchema:
    header: str
    base: Base
    inputs: tuple[GqlType, ...]
    namespaces: tuple[GqlNamespace, ...]
    readers: tuple[GqlReader, ...]
    documents: tuple[GqlType, ...]
    filters: tuple[GqlType, ...]
