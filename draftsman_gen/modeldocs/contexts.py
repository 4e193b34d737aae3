"""The typed contexts the docs templates read: escaped values only, one class per part.

Every text field is `Md` (Markdown) or `Mmd` (Mermaid), made by escape.py; mypy rejects a
plain str here and render.py refuses to print one, so no free text reaches a page unescaped.
Which rows and nodes exist and in what order is decided in plan.py and diagrams.py; how they
look is the templates' business (templates/docs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from draftsman_gen.modeldocs.escape import Md, Mmd

# -- Mermaid ------------------------------------------------------------------------------
Shape = Literal["command", "flow", "event", "document", "aggregate", "external"]


@dataclass(frozen=True)
class Node:
    id: Mmd
    label: Mmd
    shape: Shape


@dataclass(frozen=True)
class Edge:
    source: Mmd
    target: Mmd
    label: Mmd  # empty: no label
    dashed: bool = False


@dataclass(frozen=True)
class Cluster:
    """A subgraph (a subdomain, an aggregate) with its nodes and nested subgraphs."""

    id: Mmd
    label: Mmd
    nodes: tuple[Node, ...]
    clusters: tuple[Cluster, ...] = ()


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[Node, ...]
    clusters: tuple[Cluster, ...]
    edges: tuple[Edge, ...]


# -- rows of tables -----------------------------------------------------------------------
@dataclass(frozen=True)
class FieldRow:
    """A field of a document, an entity or a domain event (ObjectList items as `x[].y`)."""

    name: Md
    type: Md
    default: Md
    note: Md


@dataclass(frozen=True)
class CommandFieldRow:
    name: Md
    type: Md
    required: Md
    default: Md
    pattern: Md
    auto_fill: Md


@dataclass(frozen=True)
class HandlerRow:
    field: Md  # the document field
    change: Md


@dataclass(frozen=True)
class TriggerRow:
    source: Md
    key: Md
    mapping: Md
    idempotency: Md


@dataclass(frozen=True)
class VariableRow:
    name: Md
    type: Md


@dataclass(frozen=True)
class ProcessorRow:
    number: int
    kind: Md
    details: Md


@dataclass(frozen=True)
class CaseRow:
    name: Md
    trigger: Md
    state: Md
    input: Md
    expects: Md


@dataclass(frozen=True)
class AggregateRow:
    name: Md
    subdomain: Md
    key: Md
    flows: int
    events: int
    description: Md


@dataclass(frozen=True)
class CommandRow:
    name: Md
    api: Md
    access: Md
    flows: Md
    description: Md


@dataclass(frozen=True)
class CrossRow:
    """A domain event of one aggregate that starts a flow of another."""

    event: Md
    owner: Md
    flow: Md
    key: Md


@dataclass(frozen=True)
class SubdomainRow:
    name: Md
    aggregates: Md


@dataclass(frozen=True)
class NamedRow:
    """A pattern (name, regex) or a key expression (signature, expression)."""

    name: Md
    definition: Md


# -- sections -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeBlock:
    title: Md
    fence: Md
    body: Md


@dataclass(frozen=True)
class CommandDoc:
    heading: Md
    description: Md
    facts: tuple[Md, ...]
    fields: tuple[CommandFieldRow, ...]


@dataclass(frozen=True)
class EntityDoc:
    heading: Md
    key: Md
    fields: tuple[FieldRow, ...]


@dataclass(frozen=True)
class EventDoc:
    heading: Md
    facts: tuple[Md, ...]
    fields: tuple[FieldRow, ...]
    handler: tuple[HandlerRow, ...]
    handler_code: CodeBlock | None


@dataclass(frozen=True)
class FlowDoc:
    heading: Md
    description: Md
    facts: tuple[Md, ...]
    triggers: tuple[TriggerRow, ...]
    variables: tuple[VariableRow, ...]
    processors: tuple[ProcessorRow, ...]
    code: tuple[CodeBlock, ...]
    cases: tuple[CaseRow, ...]


# -- pages --------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexPage:
    notice: Md
    title: Md
    description: Md
    facts: tuple[Md, ...]
    subdomains: tuple[SubdomainRow, ...]
    aggregates: tuple[AggregateRow, ...]
    commands: tuple[CommandRow, ...]
    diagram: Diagram
    cross: tuple[CrossRow, ...]
    fan_out: tuple[CommandRow, ...]
    unused: tuple[CommandDoc, ...]  # commands that start no flow: documented here
    patterns: tuple[NamedRow, ...]
    expressions: tuple[NamedRow, ...]
    lib_modules: tuple[Md, ...]


@dataclass(frozen=True)
class SubdomainPage:
    notice: Md
    breadcrumb: Md
    title: Md
    aggregates: tuple[AggregateRow, ...]
    commands: tuple[CommandRow, ...]
    incoming: tuple[CrossRow, ...]
    outgoing: tuple[CrossRow, ...]


@dataclass(frozen=True)
class AggregatePage:
    notice: Md
    breadcrumb: Md
    title: Md
    description: Md
    facts: tuple[Md, ...]
    diagram: Diagram
    document: tuple[FieldRow, ...]
    entities: tuple[EntityDoc, ...]
    commands: tuple[CommandDoc, ...]
    events: tuple[EventDoc, ...]
    flows: tuple[FlowDoc, ...]


Page = IndexPage | SubdomainPage | AggregatePage
