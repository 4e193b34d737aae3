"""Stage 2b: the semantic rules over schema-valid files, one module per concern; on success, the IR.

Rules run in a fixed order, file by file, so diagnostics are deterministic: the project, lib
modules, patterns, key expressions and commands; then aggregates (roots, then events); then
flows with their test cases, which may refer to all of those. A file that failed its schema
is skipped, and references to elements it defines are not reported again (one mistake, one
message). State passes explicitly: each step returns what it found, and flows see it all as
one read-only `Symbols`.
"""

from __future__ import annotations

from draftsman_gen import ir
from draftsman_gen.diagnostics import Diagnostics
from draftsman_gen.loader import Workspace
from draftsman_gen.semantic import aggregates, expressions, flows, symbols
from draftsman_gen.semantic.fields import FieldRules
from draftsman_gen.semantic.sink import Sink, file_loc

DEFAULT_TTL = -1
DEFAULT_SNAPSHOT_INTERVAL = 100


def check(ws: Workspace, diags: Diagnostics, broken: set[str]) -> ir.Model | None:
    sink = Sink(diags, frozenset(broken))
    project = symbols.check_project(sink, ws)
    broken_names = symbols.broken_names(sink.broken)
    lib = symbols.check_lib(sink, ws)
    patterns = symbols.check_patterns(sink, ws, broken_names)
    rules = FieldRules(patterns, frozenset(broken_names))
    key_expressions = expressions.check_key_expressions(sink, ws)
    commands = symbols.check_commands(sink, ws, rules)
    drafts = aggregates.collect(sink, ws)
    for agg in drafts.values():
        aggregates.check_root(sink, rules, agg)
    for agg in drafts.values():
        aggregates.check_events(sink, rules, agg)
    owners = aggregates.check_source_names(sink, commands, drafts)
    syms = symbols.Symbols(commands, drafts, owners, key_expressions, lib,
                           frozenset(broken_names), _declared(commands, drafts))
    model_flows = {agg.name: flows.check_flows(sink, syms, agg) for agg in drafts.values()}
    access = {agg.name: symbols.check_access(sink, agg.root, ("queries",))
              for agg in drafts.values() if agg.root is not None}
    if sink.failed or project is None:
        return None
    return ir.Model(
        name=project.name, package=project.package, package_loc=project.package_loc,
        description=project.description,
        dependencies=project.dependencies,
        commands=tuple(sorted(commands.values(), key=lambda c: c.name)),
        aggregates=tuple(_aggregate(agg, model_flows[agg.name], access[agg.name])
                         for agg in sorted(drafts.values(), key=lambda a: a.name)),
        patterns=tuple(sorted(patterns.values(), key=lambda p: p.name)),
        expressions=tuple(sorted(key_expressions.values(), key=lambda e: e.name)),
        lib_modules=tuple(ir.LibModule(name, source.text, file_loc(source))
                          for name, source in sorted(lib.items())))


def _declared(commands: dict[str, ir.Command],
              drafts: dict[str, aggregates.AggregateDraft]) -> frozenset[str]:
    fields = [f for c in commands.values() for f in c.fields]
    entities: list[str] = []
    for agg in drafts.values():
        fields += agg.fields.values()
        fields += [f for e in agg.entities.values() for f in e.fields]
        fields += [f for e in agg.events.values() for f in e.fields]
        entities += agg.entities
    return expressions.declared_names(fields, entities)


def _aggregate(agg: aggregates.AggregateDraft, agg_flows: list[ir.Flow],
               query_access: ir.Access) -> ir.Aggregate:
    assert agg.root is not None
    data = agg.root.data
    return ir.Aggregate(
        name=agg.name, subdomain=agg.subdomain, business_key=data["business-key"],
        fields=tuple(agg.fields.values()), entities=tuple(agg.entities.values()),
        event_ttl=data.get("event-ttl", DEFAULT_TTL),
        snapshot_interval=data.get("snapshot-interval", DEFAULT_SNAPSHOT_INTERVAL),
        backup_interval_days=data.get("backup-interval-days", 0),
        backup_ttl_days=data.get("backup-ttl-days", 0),
        events=tuple(sorted(agg.events.values(), key=lambda e: e.name)),
        flows=tuple(agg_flows), loc=file_loc(agg.root),
        description=data.get("description", ""), query_access=query_access)
