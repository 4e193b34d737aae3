"""What running a trigger gives back: Accepted or Rejected per flow, and a Submission per command.

These are values: read them, never change them. They are not frozen dataclasses because a
frozen dataclass costs microseconds to create, and one of each is created per command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Reason = Literal[
    "functional",  # a validator failed, or model code raised FunctionalError
    "not-found",  # the flow is not a create flow and the key is unknown
    "already-exists",  # a create flow on a key in use
    "key-taken",  # update-key to a key another instance has
    "already-processed",  # the idempotency key was seen within its TTL
    "conflict",  # gave up after repeated concurrent writes (backends without a write lock)
    "technical-error",  # a bug in model code, or a broken promise such as a mistyped event
]


@dataclass(slots=True)
class Accepted:
    """The flow ran and its events are stored."""

    flow: str
    aggregate: str
    key: str
    version: int
    events: tuple[tuple[str, dict[str, Any]], ...]  # (type, data) of each event emitted
    entity: Any
    to_dict: Callable[[Any], dict[str, Any]]

    @property
    def ok(self) -> bool:
        return True

    @property
    def document(self) -> dict[str, Any]:
        """The document after the flow, as JSON (computed on demand)."""
        return self.to_dict(self.entity)

    def summary(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "ok": True,
            "aggregate": self.aggregate,
            "key": self.key,
            "version": self.version,
            "events": [name for name, _data in self.events],
        }


@dataclass(slots=True)
class Rejected:
    """Nothing was stored; `reason` says why, `message` says it to a person.

    For a technical error, `where` is the model file and line of the processor that failed
    and `detail` the traceback."""

    flow: str
    reason: Reason
    message: str
    aggregate: str = ""
    key: str = ""
    where: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return False

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "flow": self.flow,
            "ok": False,
            "reason": self.reason,
            "message": self.message,
        }
        if self.key:
            summary.update(aggregate=self.aggregate, key=self.key)
        if self.where:
            summary["where"] = self.where
        return summary


Result = Accepted | Rejected


@dataclass(slots=True)
class Submission:
    """The outcome of one command: one result per flow it triggers, in model order.

    Each flow runs in a unit of work of its own: one flow's rejection neither stops nor undoes
    another's (as in the original, where each flow subscribes to the command on its own)."""

    command: str
    results: tuple[Result, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def result(self, flow: str) -> Result:
        """The result of one flow ("Aggregate.Flow")."""
        for result in self.results:
            if result.flow == flow:
                return result
        raise KeyError(f"{self.command} did not trigger {flow}")

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": self.command,
            "flows": [result.summary() for result in self.results],
        }
