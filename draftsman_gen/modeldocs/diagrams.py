"""The Mermaid diagrams as data: an aggregate's flowchart and the whole model's event flow.

An aggregate: command (or another aggregate's event) -> flow -> domain events -> document,
and the flows of other aggregates its events start. The whole model: every subdomain and
aggregate, the domain events that start flows of other aggregates (with the flows that emit
them), and the commands that start several flows. Labels and ids are escaped here
(escape.label, escape.node_id); the template decides the Mermaid syntax of each shape.
"""

from __future__ import annotations

from draftsman_gen import ir
from draftsman_gen.modeldocs import contexts as cx
from draftsman_gen.modeldocs.describe import changed_fields, key_label
from draftsman_gen.modeldocs.escape import Mmd, label, node_id
from draftsman_gen.modeldocs.relations import FlowRef, Relations

NO_LABEL = Mmd("")


def command_node(command: str) -> cx.Node:
    return cx.Node(node_id("cmd", command), label(command), "command")


def event_node(event: str, owner: str = "") -> cx.Node:
    shown = f"{owner}.{event}" if owner else event
    return cx.Node(node_id("evt", event), label(shown), "event")


def flow_node(ref: FlowRef, external: bool = False) -> cx.Node:
    if external:
        return cx.Node(node_id("flw", ref.aggregate.name, ref.flow.name),
                       label(f"{ref.aggregate.name}.{ref.flow.name}"), "external")
    return cx.Node(node_id("flw", ref.aggregate.name, ref.flow.name), label(ref.flow.name),
                   "flow")


def emitted(flow: ir.Flow) -> list[str]:
    """The events a flow emits, each once, in the order of its processors."""
    return list(dict.fromkeys(p.event for p in flow.processors if isinstance(p, ir.EmitEvent)))


def aggregate_diagram(agg: ir.Aggregate, rel: Relations) -> cx.Diagram:
    nodes: list[cx.Node] = []
    edges: list[cx.Edge] = []
    for source in rel.sources_of(agg):
        if source in rel.commands:
            nodes.append(command_node(source))
        else:
            nodes.append(event_node(source, rel.owners[source].name))
    document = cx.Node(node_id("doc", agg.name), label(f"{agg.name} document"), "document")
    for flow in agg.flows:
        ref = FlowRef(agg, flow)
        nodes.append(flow_node(ref))
        for trigger in flow.triggers:
            edges.append(cx.Edge(node_id("cmd" if trigger.source_kind == "command" else "evt",
                                         trigger.source),
                                 flow_node(ref).id, label(key_label(trigger))))
        edges.extend(cx.Edge(flow_node(ref).id, node_id("evt", event), NO_LABEL)
                     for event in emitted(flow))
        if any(isinstance(p, ir.UpdateKey) for p in flow.processors):
            edges.append(cx.Edge(flow_node(ref).id, document.id, label("update key"), True))
    for event in agg.events:
        nodes.append(event_node(event.name))
        edges.append(cx.Edge(node_id("evt", event.name), document.id,
                             label(changed_fields(event))))
    nodes.append(document)
    for event in agg.events:
        for started in rel.started_by(event.name):
            nodes.append(flow_node(started.ref, external=True))
            edges.append(cx.Edge(node_id("evt", event.name), flow_node(started.ref).id,
                                 label(key_label(started.trigger)), True))
    return cx.Diagram(tuple(_unique(nodes)), (), tuple(edges))


def model_diagram(model: ir.Model, rel: Relations) -> cx.Diagram:
    members: dict[str, list[cx.Node]] = {agg.name: [] for agg in model.aggregates}
    edges: list[cx.Edge] = []
    for event, started in rel.cross_aggregate():
        owner = rel.owners[event]
        for emitter in rel.emitted_by(event):
            members[owner.name].append(flow_node(emitter))
            edges.append(cx.Edge(flow_node(emitter).id, node_id("evt", event), NO_LABEL))
        members[owner.name].append(event_node(event))
        members[started.ref.aggregate.name].append(flow_node(started.ref))
        edges.append(cx.Edge(node_id("evt", event), flow_node(started.ref).id,
                             label(key_label(started.trigger))))
    commands: list[cx.Node] = []
    for command in rel.fan_out_commands():
        commands.append(command_node(command.name))
        for started in rel.started_by(command.name):
            members[started.ref.aggregate.name].append(flow_node(started.ref))
            edges.append(cx.Edge(command_node(command.name).id, flow_node(started.ref).id,
                                 label(key_label(started.trigger))))
    subdomains: dict[str, list[ir.Aggregate]] = {}
    for agg in model.aggregates:
        subdomains.setdefault(agg.subdomain, []).append(agg)
    clusters = tuple(
        cx.Cluster(node_id("sd", subdomain), label(subdomain), tuple(
            cx.Node(node_id("agg", agg.name), label(agg.name), "aggregate")
            for agg in aggs if not members[agg.name]),
            tuple(cx.Cluster(node_id("agg", agg.name), label(agg.name),
                             tuple(_unique(members[agg.name])))
                  for agg in aggs if members[agg.name]))
        for subdomain, aggs in subdomains.items())
    return cx.Diagram(tuple(_unique(commands)), clusters, tuple(_unique_edges(edges)))


def _unique(nodes: list[cx.Node]) -> list[cx.Node]:
    """Each node once, where it first appears (Mermaid would merge repeats, but a diagram's
    source should not have them)."""
    first: dict[str, cx.Node] = {}
    for node in nodes:
        first.setdefault(node.id, node)
    return list(first.values())


def _unique_edges(edges: list[cx.Edge]) -> list[cx.Edge]:
    return list(dict.fromkeys(edges))
