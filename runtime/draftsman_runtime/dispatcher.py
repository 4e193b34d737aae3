"""Delivery of domain events to the flows of other aggregates: every delivery ends recorded.

A commit that emits an event some other aggregate's flow is triggered by also stores one
delivery per such flow, in the same transaction. The dispatcher runs each due delivery in a
unit of work that claims it, runs the flow and settles the delivery in one transaction, so a
crash at any point leaves it pending (and it runs again), and several dispatchers on one store
give each delivery exactly one effect. Outcomes: done; rejected (a functional outcome of the
target flow, recorded with its reason); or, for a technical error or conflict, retried after a
growing delay and, after the last attempt, parked as a dead letter with its traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import StoreError
from .model import Registry
from .results import Result
from .retry import RetryPolicy
from .store import Delivery, EventStore, Settlement
from .unit_of_work import UnitOfWork

log = logging.getLogger("draftsman_runtime.dispatch")


@dataclass(slots=True)
class DispatchReport:
    """What one dispatch run did, per outcome, and each delivery's result."""

    done: int = 0
    rejected: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0  # settled by another dispatcher first
    results: list[tuple[Delivery, Result | None, Settlement]] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.done + self.rejected + self.retrying + self.dead

    def summary(self) -> dict[str, int]:
        return {
            "done": self.done,
            "rejected": self.rejected,
            "retrying": self.retrying,
            "dead": self.dead,
        }

    def add(self, delivery: Delivery, result: Result | None, settled: Settlement) -> None:
        self.results.append((delivery, result, settled))
        if settled.status == "done":
            self.done += 1
        elif settled.status == "rejected":
            self.rejected += 1
        elif settled.status == "pending":
            self.retrying += 1
        else:
            self.dead += 1


class Dispatcher:
    """Runs due deliveries; `run_once` for a batch job, `follow` for a worker process."""

    def __init__(
        self,
        registry: Registry,
        work: UnitOfWork,
        clock: Callable[[], float],
        retry: RetryPolicy,
    ) -> None:
        self.registry = registry
        self.work = work
        self.store: EventStore = work.store
        self.clock = clock
        self.retry = retry

    def run_once(self, limit: int = 100) -> DispatchReport:
        """Deliver every delivery due now. A delivery scheduled for a retry during this run
        waits for the next run (or for `follow`), so one run always ends."""
        report = DispatchReport()
        started = self.clock()
        seen = 0
        while True:
            batch = self.store.due(started, limit, after=seen)
            if not batch:
                return report
            for delivery in batch:
                seen = max(seen, delivery.id)
                self.deliver(delivery, report)

    def deliver(self, delivery: Delivery, report: DispatchReport) -> None:
        """Run one delivery and add its outcome to `report`."""
        spec = self.registry.trigger(delivery.flow, delivery.event_type)
        if spec is None:
            message = (
                f"the model has no flow {delivery.flow} triggered by {delivery.event_type} "
                "(removed or renamed since the event was stored?)"
            )
            self._park(delivery, "unknown-flow", message, report)
            return
        try:
            payload = spec.parse(delivery.data)
        except Exception as exc:  # noqa: BLE001 - a stored event the model no longer reads
            message = f"the stored {delivery.event_type} does not fit the model: {exc!r}"
            self._park(delivery, "bad-event", message, report)
            return
        outcome = self.work.deliver(spec, payload, delivery)
        if outcome is None:
            report.skipped += 1
            return
        result, settled = outcome
        report.add(delivery, result, settled)
        _log_outcome(delivery, settled, self.retry)

    def _park(self, delivery: Delivery, reason: str, message: str, report: DispatchReport) -> None:
        """A delivery no retry can help: straight to the dead letters."""
        now = self.clock()
        with self.store.exclusive():
            claimed = self.store.claim(delivery.id, now)
            if claimed is None:
                report.skipped += 1
                return
            settled = Settlement("dead", claimed.attempts + 1, now, reason, message)
            self.store.settle(delivery.id, settled, now)
        report.add(delivery, None, settled)
        _log_outcome(delivery, settled, self.retry)

    def follow(self, stop: threading.Event, poll: float = 1.0, limit: int = 100) -> None:
        """Deliver until `stop` is set: run what is due, then sleep until the next delivery is
        due (at most `poll` seconds, so new deliveries are seen). A store that is briefly
        unavailable (locked) is waited for, not fatal."""
        while not stop.is_set():
            try:
                self.run_once(limit)
                next_due = self.store.next_due()
            except StoreError as exc:
                log.warning("dispatch paused: %s", exc)
                stop.wait(poll)
                continue
            wait = poll if next_due is None else min(poll, max(0.0, next_due - self.clock()))
            stop.wait(wait)


def _log_outcome(delivery: Delivery, settled: Settlement, retry: RetryPolicy) -> None:
    what = f"delivery {delivery.id} of {delivery.event_type} to {delivery.flow}"
    if settled.status == "rejected":
        log.warning("%s rejected (%s): %s", what, settled.reason, settled.message)
    elif settled.status == "pending":
        log.warning(
            "%s failed (%s), attempt %d of %d; retrying in %.0f s: %s",
            what,
            settled.reason,
            settled.attempts,
            retry.max_attempts,
            retry.delay(settled.attempts),
            settled.message,
        )
    elif settled.status == "dead":
        log.warning(
            "%s parked as a dead letter after %d attempt(s) (%s): %s",
            what,
            settled.attempts,
            settled.reason,
            settled.message,
        )
