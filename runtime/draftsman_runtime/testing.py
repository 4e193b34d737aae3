"""Given / when / then for the generated tests (and for your own): `FlowCase`.

A `FlowCase` runs one modeled test case through the path production takes: the given state
is stored as version 0 of a fresh in-memory store; a command goes through `Service.submit`
(payload check, every flow the command triggers, one unit of work each) and a domain event
through a stored delivery and `Service.dispatch`. The expectations are checked against what
was stored. Failures name the model file and line of the test case and show a diff.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from typing import Any, NoReturn

from .config import Settings
from .model import AnyTrigger, Registry
from .results import Accepted, Rejected, Result
from .service import Service
from .sqlite import SQLiteEventStore
from .store import NewDelivery

FIXED_TIME = 1_700_000_000.0


@dataclass(frozen=True, slots=True)
class Flow:
    """The behavior flow a test module checks, and the model file it comes from."""

    aggregate: str
    name: str
    model_file: str


class FlowCase:
    def __init__(self, registry: Registry, flow: Flow, source: str, line: int, name: str) -> None:
        self.where = f"{flow.model_file}:{line} (test case {name})"
        self.service = Service(
            registry,
            SQLiteEventStore(":memory:"),
            clock=lambda: FIXED_TIME,
            settings=Settings(database=":memory:"),
        )
        spec = registry.trigger(f"{flow.aggregate}.{flow.name}", source)
        if spec is None:
            self.fail(f"{flow.aggregate}.{flow.name} is not triggered by {source}")
        self.spec: AnyTrigger = spec
        self.is_command = source in registry.commands
        self.given: dict[str, Any] | None = None
        self.key = ""

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"{self.where}\n{message}")

    def given_state(self, trigger_input: dict[str, Any], state: dict[str, Any]) -> None:
        """Store `state` as the instance the trigger input points at."""
        key = self.spec.key(self.spec.parse(trigger_input))
        self.service.seed(self.spec.aggregate.name, key, state)
        self.given = state

    def when(self, trigger_input: dict[str, Any]) -> Result:
        """Run the trigger the way production does, and return this flow's result."""
        self.key = self.spec.key(self.spec.parse(trigger_input))
        if self.is_command:
            return self.service.submit(self.spec.source, trigger_input).result(self.spec.flow)
        delivery = NewDelivery("test-delivery", self.spec.source, self.spec.flow, trigger_input)
        self.service.store.enqueue([delivery], FIXED_TIME)
        for _delivery, result, settled in self.service.dispatch().results:
            if result is None:
                self.fail(f"the delivery was not run ({settled.reason}): {settled.message}")
            return result
        self.fail("the delivery was not run")

    def then_accepted(self, result: Result) -> None:
        """The flow ran and stored its events (for a case that expects only a state)."""
        self._accepted(result)

    def then_events(self, result: Result, expected: list[tuple[str, dict[str, Any]]]) -> None:
        accepted = self._accepted(result)
        actual_types = [name for name, _data in accepted.events]
        expected_types = [name for name, _fields in expected]
        if actual_types != expected_types:
            self.fail("emitted events differ:\n" + _diff(expected_types, actual_types))
        for (name, fields), (_name, data) in zip(expected, accepted.events, strict=True):
            subset = {k: data.get(k) for k in fields}
            if not matches(fields, subset):
                self.fail(f"fields of {name} differ:\n" + _diff(fields, subset))

    def then_state(self, pk: str, expected: dict[str, Any]) -> None:
        agg = self.spec.aggregate
        document = self.service.show(agg.name, pk)
        if document is None:
            self.fail(f"no {agg.name} instance with key {pk!r} after the flow")
        subset = {k: document.get(k) for k in expected}
        if not matches(expected, subset):
            self.fail(f"state of {agg.name} {pk!r} differs:\n" + _diff(expected, subset))

    def then_error(self, result: Result, expected: str) -> None:
        if isinstance(result, Accepted):
            self.fail(
                f"expected an error containing {expected!r}, but the flow succeeded "
                f"with events {[name for name, _ in result.events]}"
            )
        if not expected and result.reason == "technical-error":  # "": any functional error
            self.fail(
                f"expected a functional error, got a technical one: {result.message!r}\n"
                f"{result.detail}"
            )
        if expected not in result.message:
            self.fail(
                f"expected an error containing {expected!r}, got {result.reason}: "
                f"{result.message!r}\n{result.detail}"
            )
        if self.service.history(self.spec.aggregate.name, result.key or self.key):
            self.fail("a rejected flow stored events")

    def then_replay_matches(self, result: Result) -> None:
        """Replaying the stored events from the given state reproduces the flow's state."""
        accepted = self._accepted(result)
        agg = self.spec.aggregate
        if self.given is not None:
            document = agg.document_from_dict(self.given)
        else:
            document = agg.new_document(self.key)
        agg.set_key(document, self.key)
        for event in self.service.history(agg.name, accepted.key) or []:
            agg.replay(document, event.type, event.data)
        agg.set_key(document, accepted.key)
        replayed = agg.document_to_dict(document)
        if not matches(accepted.document, replayed):
            self.fail(
                "replaying the stored events gives another state:\n"
                + _diff(accepted.document, replayed)
            )

    def _accepted(self, result: Result) -> Accepted:
        if isinstance(result, Rejected):
            self.fail(f"the flow was rejected ({result.reason}): {result.message}\n{result.detail}")
        return result


def matches(expected: Any, actual: Any) -> bool:
    """Equality for JSON values, with floats compared to 1e-9 relative tolerance."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            matches(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    return bool(expected == actual)


def _diff(expected: Any, actual: Any) -> str:
    left = json.dumps(expected, indent=2, sort_keys=True, default=str).splitlines()
    right = json.dumps(actual, indent=2, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(left, right, "expected", "actual", lineterm=""))
