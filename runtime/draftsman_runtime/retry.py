"""What becomes of a delivery after an attempt: done, rejected, retried later, or parked.

The original retries a technical error three times and then parks the event in a dead-letter
table; so does this runtime, with a growing delay between attempts. Functional outcomes
(rejected by a validator, not found, already exists, key taken) are final and recorded with
their reason: running the same flow again on the same state would give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import Accepted, Result
from .store import Emitted, Settlement

RETRIED = frozenset({"technical-error", "conflict"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per delivery (the first one included) and the delays between them."""

    max_attempts: int = 4  # the first try and three retries, as the original
    first_delay: float = 1.0  # seconds before the first retry
    factor: float = 4.0  # each later delay is this many times the one before
    max_delay: float = 3600.0  # no wait is longer than an hour

    def delay(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failed attempts."""
        steps = min(max(0, attempts - 1), 64)  # 4**64 seconds is already past any max_delay
        return min(self.first_delay * self.factor**steps, self.max_delay)


def settlement(result: Result, attempts_before: int, policy: RetryPolicy, now: float) -> Settlement:
    """The outcome to record for a delivery attempt that gave `result`."""
    attempts = attempts_before + 1
    if isinstance(result, Accepted):
        first = result.version - len(result.events) + 1
        emitted = tuple(
            Emitted(name, first + n, data) for n, (name, data) in enumerate(result.events)
        )
        return Settlement("done", attempts, now, "accepted", key=result.key, emitted=emitted)
    key = result.key
    if result.reason == "already-processed":
        return Settlement("done", attempts, now, result.reason, result.message, key=key)
    if result.reason not in RETRIED:
        return Settlement("rejected", attempts, now, result.reason, result.message, key=key)
    if attempts < policy.max_attempts:
        due = now + policy.delay(attempts)
        return Settlement(
            "pending", attempts, due, result.reason, result.message, result.detail, key=key
        )
    return Settlement("dead", attempts, now, result.reason, result.message, result.detail, key=key)
