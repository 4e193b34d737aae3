"""Who triggers whom in a model: sources to flows, flows to events, events to their owners.

Computed once from the IR, in the IR's own order (which is stable), so that every page and
diagram lists the same relations in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from draftsman_gen import ir


@dataclass(frozen=True)
class FlowRef:
    aggregate: ir.Aggregate
    flow: ir.Flow


@dataclass(frozen=True)
class Triggered:
    """A flow started by a source (a command, or another aggregate's domain event)."""

    ref: FlowRef
    trigger: ir.Trigger


@dataclass(frozen=True)
class Relations:
    triggered: dict[str, tuple[Triggered, ...]]  # command or event -> the flows it starts
    emitters: dict[str, tuple[FlowRef, ...]]  # event -> the flows that emit it
    owners: dict[str, ir.Aggregate]  # event -> its aggregate
    commands: dict[str, ir.Command]
    patterns: dict[str, ir.Pattern]

    def started_by(self, source: str) -> tuple[Triggered, ...]:
        return self.triggered.get(source, ())

    def emitted_by(self, event: str) -> tuple[FlowRef, ...]:
        return self.emitters.get(event, ())

    def sources_of(self, agg: ir.Aggregate) -> list[str]:
        """The commands and foreign events that start this aggregate's flows, first seen first."""
        return list(dict.fromkeys(t.source for flow in agg.flows for t in flow.triggers))

    def cross_aggregate(self) -> list[tuple[str, Triggered]]:
        """(event, flow) for every domain event that starts a flow of another aggregate."""
        return [(source, t) for source, started in self.triggered.items() if source in self.owners
                for t in started]

    def fan_out_commands(self) -> list[ir.Command]:
        """Commands that start more than one flow (possibly in several aggregates)."""
        return [c for c in self.commands.values() if len(self.started_by(c.name)) > 1]


def relate(model: ir.Model) -> Relations:
    triggered: dict[str, list[Triggered]] = {}
    emitters: dict[str, list[FlowRef]] = {}
    for agg in model.aggregates:
        for flow in agg.flows:
            ref = FlowRef(agg, flow)
            for trigger in flow.triggers:
                triggered.setdefault(trigger.source, []).append(Triggered(ref, trigger))
            for processor in flow.processors:
                if isinstance(processor, ir.EmitEvent):
                    found = emitters.setdefault(processor.event, [])
                    if ref not in found:  # a flow may emit one event twice
                        found.append(ref)
    return Relations(
        triggered={k: tuple(v) for k, v in triggered.items()},
        emitters={k: tuple(v) for k, v in emitters.items()},
        owners={event.name: agg for agg in model.aggregates for event in agg.events},
        commands={c.name: c for c in model.commands},
        patterns={p.name: p for p in model.patterns},
    )
