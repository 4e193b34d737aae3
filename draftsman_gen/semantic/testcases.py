"""Test cases of a behavior flow: their trigger, values and expectations."""

from __future__ import annotations

from typing import Any

from draftsman_gen import ir
from draftsman_gen.loader import SourceFile
from draftsman_gen.naming import pascal_problem
from draftsman_gen.semantic.aggregates import AggregateDraft
from draftsman_gen.semantic.fields import entities_problem, value_problem
from draftsman_gen.semantic.sink import P, Sink, hint
from draftsman_gen.semantic.symbols import Symbols

Slot = ir.Field | ir.Entity  # what a test value is written for: a field or an entity collection


def check_test_cases(sink: Sink, syms: Symbols, agg: AggregateDraft, source: SourceFile,
                     triggers: list[ir.Trigger], emitted: set[str] | None,
                     complete: bool) -> tuple[list[ir.TestCase], bool]:
    """The flow's test cases, and whether all of them are fine. `emitted` is None when the
    flow's processors are broken (expectations cannot be checked)."""
    if not complete:
        return [], True
    checker = _Cases(sink, syms, agg, source, {t.source: t for t in triggers}, emitted)
    cases = []
    seen: set[str] = set()
    for i, data in enumerate(source.data["test-cases"]):
        path: P = ("test-cases", i)
        name = data["name"]
        if not sink.name_check(source, name, pascal_problem, path + ("name",)):
            checker.ok = False
            continue
        if name in seen:
            checker.err(path + ("name",), "DG303", f"duplicate test case name '{name}'")
            continue
        seen.add(name)
        case = checker.case(path, data)
        if case is not None:
            cases.append(case)
    return cases, checker.ok


class _Cases:
    def __init__(self, sink: Sink, syms: Symbols, agg: AggregateDraft, source: SourceFile,
                 by_source: dict[str, ir.Trigger], emitted: set[str] | None) -> None:
        self.sink = sink
        self.syms = syms
        self.agg = agg
        self.source = source
        self.by_source = by_source
        self.emitted = emitted
        self.ok = True
        self.document: dict[str, Slot] = {**agg.fields, **agg.entities}

    def err(self, path: P, code: str, message: str, key: bool = False) -> None:
        self.sink.err(self.source.loc(path, key=key), code, message)
        self.ok = False

    def case(self, path: P, data: dict[str, Any]) -> ir.TestCase | None:
        trigger_name = data["trigger-event"]
        fields = self.syms.source_fields(trigger_name)
        if trigger_name not in self.by_source or fields is None:
            if trigger_name not in self.syms.broken_names:
                self.err(path + ("trigger-event",), "DG330", f"'{trigger_name}' does not trigger "
                         "this flow" + hint(trigger_name, self.by_source))
            return None
        ok = self.values(path + ("input",), data["input"], dict(fields), required=True)
        state = data.get("state")
        if state is not None:
            ok &= self.values(path + ("state",), state, self.document, required=False)
        expected, expected_ok = self.expected_events(path, data.get("expected", []))
        ok &= expected_ok
        exp_state = data.get("expected-state")
        if exp_state is not None:
            ok &= self.values(path + ("expected-state", "state"), exp_state.get("state", {}),
                              self.document, required=False)
        error = data.get("expected-error")
        if error is not None and (data.get("expected") or exp_state is not None):
            self.err(path + ("expected-error",), "DG332", "a test case expects either an error "
                     "or events and state, not both", key=True)
            return None
        if error is None and not data.get("expected") and exp_state is None:
            self.err(path, "DG332", "test case asserts nothing: add 'expected', "
                     "'expected-state' or 'expected-error'")
            return None
        if not ok:
            return None
        return ir.TestCase(
            name=data["name"], trigger=trigger_name,
            input=tuple(data["input"].items()),
            state=tuple(state.items()) if state is not None else None,
            expected=tuple(expected),
            expected_state_pk=exp_state["pk"] if exp_state else None,
            expected_state=tuple(exp_state.get("state", {}).items()) if exp_state else (),
            expected_error=error,
            loc=ir.Loc(self.source.rel, self.source.loc(path).line))

    def expected_events(self, path: P,
                        items: list[dict[str, Any]]) -> tuple[list[ir.ExpectedEvent], bool]:
        expected = []
        ok = True
        for j, item in enumerate(items):
            epath = path + ("expected", j)
            event = self.agg.events.get(item["event"])
            if self.emitted is None:
                ok = False
                continue
            if event is None or item["event"] not in self.emitted:
                self.err(epath + ("event",), "DG331", f"this flow never emits '{item['event']}'"
                         + hint(item["event"], self.emitted))
                ok = False
                continue
            values = item.get("fields", {})
            ok &= self.values(epath + ("fields",), values, {f.name: f for f in event.fields},
                              required=False)
            expected.append(ir.ExpectedEvent(item["event"], tuple(values.items())))
        return expected, ok

    def values(self, path: P, values: dict[str, Any], slots: dict[str, Slot],
               required: bool) -> bool:
        ok = True
        for name, value in values.items():
            slot = slots.get(name)
            if slot is None:
                self.err(path + (name,), "DG333", f"'{name}' is not a field here"
                         + hint(name, slots), key=True)
                ok = False
                continue
            if isinstance(slot, ir.Entity):
                problem = entities_problem(value, slot)
            else:
                problem = value_problem(value, slot.type, slot.fields)
            if problem:
                self.err(path + (name,), "DG333", f"'{name}': {problem}")
                ok = False
        if required:
            missing = [n for n, s in slots.items()
                       if isinstance(s, ir.Field) and s.required and n not in values]
            if missing:
                self.err(path, "DG333", f"input is missing required field(s): {', '.join(missing)}")
                ok = False
        return ok
