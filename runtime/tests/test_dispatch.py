"""Delivery of domain events: every delivery ends recorded (done, rejected with its reason,
or dead-lettered after its retries), redelivery works after a fix, and several dispatchers
or a SIGKILL never lose or double an effect."""

from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import HERE, Clock
from toy import model
from toy.registry import COUNTER, REGISTRY, TRIGGERS

from draftsman_runtime import Registry, Service, Settings
from draftsman_runtime.store import DeliveryStatus, NewDelivery, Snapshot

WORKER = HERE / "dispatch_worker.py"


def add(service: Service, amount: int, name: str = "a", ref: str | None = None) -> None:
    payload: dict[str, object] = {"name": name, "amount": amount}
    if ref:
        payload["ref"] = ref
    assert service.submit("AddToCounter", payload).ok


@pytest.fixture
def counted(service: Service) -> Service:
    assert service.submit("CreateCounter", {"name": "a", "limit": 1000}).ok
    return service


def test_a_delivery_is_done_once(counted: Service) -> None:
    add(counted, 5)
    assert (counted.show("Tally", "a") or {})["total"] == 0  # not before dispatch
    report = counted.dispatch()
    assert report.summary() == {"done": 1, "rejected": 0, "retrying": 0, "dead": 0}
    assert (counted.show("Tally", "a") or {})["total"] == 5
    assert counted.dispatch().handled == 0
    (done,) = counted.deliveries(("done",))
    assert (done.event_type, done.flow, done.origin, done.reason) == (
        "Added",
        "Tally.Count",
        "Counter a@2",
        "accepted",
    )


def test_a_rejection_by_the_target_flow_is_recorded_not_retried(counted: Service) -> None:
    assert counted.submit("Reset", {"name": "a", "freeze": True}).ok
    add(counted, 5)
    report = counted.dispatch()
    assert report.summary() == {"done": 0, "rejected": 1, "retrying": 0, "dead": 0}
    (rejected,) = counted.deliveries()
    assert (rejected.status, rejected.reason, rejected.message) == (
        "rejected",
        "functional",
        "tally a is frozen",
    )
    assert counted.dispatch().handled == 0  # final: never retried on its own


def test_a_missing_target_is_recorded_as_not_found(service: Service) -> None:
    service.store.restore(
        "Counter", [("b", Snapshot(0, COUNTER.fingerprint, {"name": "b", "limit": 9}))]
    )
    add(service, 1, name="b")
    service.dispatch()
    (rejected,) = service.deliveries()
    assert (rejected.reason, rejected.message) == ("not-found", "Tally 'b' not found")


def test_a_technical_error_is_retried_with_backoff_then_dead_lettered(
    counted: Service, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="draftsman_runtime")
    model.BROKEN.add(7)
    add(counted, 7)
    waits = []
    for _attempt in range(4):
        report = counted.dispatch()
        assert report.handled == 1
        due = counted.store.next_due()
        waits.append(None if due is None else due - clock.now)
        assert counted.dispatch().handled == 0  # not before its time
        clock.advance(waits[-1] or 0)
    assert waits == [1.0, 4.0, 16.0, None]  # retried three times, as the original
    (dead,) = counted.dead_letters()
    assert (dead.attempts, dead.reason) == (4, "technical-error")
    assert "at model/Tally/Count.yaml:7" in dead.message and "RuntimeError" in dead.detail
    messages = [r.getMessage() for r in caplog.records]
    assert sum("retrying in" in m for m in messages) == 3
    assert sum("parked as a dead letter" in m for m in messages) == 1
    assert (counted.show("Tally", "a") or {})["total"] == 0
    # the fix, then redelivery: the effect happens once
    model.BROKEN.clear()
    assert counted.redeliver() == [dead.id]
    assert counted.dispatch().summary()["done"] == 1
    assert (counted.show("Tally", "a") or {})["total"] == 7
    assert counted.dead_letters() == []


def test_a_rejected_delivery_can_be_redelivered_on_request(counted: Service) -> None:
    assert counted.submit("Reset", {"name": "a", "freeze": True}).ok
    add(counted, 5)
    counted.dispatch()
    (rejected,) = counted.deliveries()
    assert counted.redeliver() == []  # --all means dead letters only
    assert counted.redeliver([rejected.id]) == [rejected.id]
    assert counted.dispatch().summary()["rejected"] == 1  # still frozen: same answer, recorded


def test_an_event_the_model_no_longer_triggers_is_parked(counted: Service) -> None:
    add(counted, 2)
    without_count = Registry(
        package="toy",
        project="Toy",
        env_prefix="TOY",
        generator="x",
        aggregates=list(REGISTRY.aggregates.values()),
        commands=REGISTRY.commands,
        triggers=[t for t in TRIGGERS if t.flow != "Tally.Count"],
    )
    other = Service(without_count, counted.store, clock=counted.clock, settings=counted.settings)
    assert other.dispatch().summary()["dead"] == 1
    (dead,) = other.dead_letters()
    assert (
        dead.reason == "unknown-flow" and "no flow Tally.Count triggered by Added" in dead.message
    )


def test_a_stored_event_that_no_longer_parses_is_parked(counted: Service) -> None:
    counted.store.enqueue([NewDelivery("x", "Added", "Tally.Count", {"nom": "a"})], counted.clock())
    assert counted.dispatch().summary()["dead"] == 1
    (dead,) = counted.dead_letters()
    assert dead.reason == "bad-event" and "does not fit the model" in dead.message


# -- real processes, on each backend ----------------------------------------------------------
def _open(database: str) -> Service:
    return Service(REGISTRY, settings=Settings(database=database))


def _fill(database: str, counters: int, adds: int) -> None:
    service = _open(database)
    for c in range(counters):
        assert service.submit("CreateCounter", {"name": f"c{c}", "limit": 10**6}).ok
        for n in range(adds):
            add(service, 2, name=f"c{c}", ref=f"c{c}-{n}")
    service.close()


def _pending(database: str) -> int:
    service = _open(database)
    try:
        return len(service.store.deliveries(("pending",), 100_000))
    finally:
        service.close()


def _check_exactly_once(database: str, counters: int, adds: int) -> None:
    service = _open(database)
    try:
        statuses = Counter(d.status for d in service.store.deliveries(ALL, 100_000))
        assert statuses == {"done": counters * adds}
        for c in range(counters):
            tally = service.store.resolve("Tally", f"c{c}")
            assert tally is not None
            counted = len(service.store.history("Tally", tally))
            assert counted == adds + 1, f"c{c}: {counted - 1} Counted events for {adds} deliveries"
            assert (service.show("Tally", f"c{c}") or {})["total"] == 2 * adds
    finally:
        service.close()


ALL: tuple[DeliveryStatus, ...] = ("pending", "done", "rejected", "dead")


def test_two_dispatcher_processes_give_each_delivery_one_effect(database: str) -> None:
    _fill(database, counters=4, adds=300)
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database, "dispatch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:  # both started and waiting, so that they run at the same time
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    outputs = [p.stdout.read() for p in procs if p.stdout is not None]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    # Both ran at once (the barrier above); SQLite's lock is not granted in order, so one
    # may do most or all of the work: what matters is that nothing ran twice or not at all.
    totals = [json.loads(out.splitlines()[-1])["total"] for out in outputs]
    assert sum(totals) == 1200, totals
    _check_exactly_once(database, counters=4, adds=300)


def test_sigkill_during_dispatch_loses_nothing_and_doubles_nothing(database: str) -> None:
    _fill(database, counters=3, adds=400)
    rng = random.Random(11)
    kills = 0
    for _round in range(40):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), database, "step"], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # it has started delivering
        time.sleep(rng.uniform(0.0, 0.02))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        if _pending(database) == 0:
            break
    assert kills >= 3
    finish = subprocess.run(
        [sys.executable, str(WORKER), database, "dispatch"],
        input="go\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(finish.stdout.splitlines()[-1])["total"] >= 0
    _check_exactly_once(database, counters=3, adds=400)


def test_four_writer_processes_500_commands_on_10_instances(database: str) -> None:
    """Nothing lost or doubled, versions gapless, and each accepted command's Added event
    delivered to the Tally exactly once."""
    service = _open(database)
    for c in range(10):
        assert service.submit("CreateCounter", {"name": f"c{c}", "limit": 10**6}).ok
    service.close()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database, "spread", "500", f"w{w}" + "x" * w],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    answers = [json.loads(line) for p in procs if p.stdout for line in p.stdout]
    assert [p.wait(timeout=600) for p in procs] == [0, 0, 0, 0]
    assert len(answers) == 2000 and all(ok for _n, ok in answers)
    service = _open(database)
    try:
        assert service.dispatch().dead == 0
        total = 0
        for c in range(10):
            counter = service.store.resolve("Counter", f"c{c}")
            assert counter is not None
            versions = [e.version for e in service.store.history("Counter", counter)]
            assert versions == list(range(1, len(versions) + 1))  # gapless, no duplicate
            count = (service.show("Counter", f"c{c}") or {})["count"]
            assert count == len(versions) - 1  # one Added per accepted command
            assert (service.show("Tally", f"c{c}") or {})["total"] == count
            total += count
        assert total == 2000
    finally:
        service.close()


def test_retry_delays_grow_and_stop_growing() -> None:
    from draftsman_runtime import RetryPolicy

    policy = RetryPolicy(max_attempts=1000)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 4.0, 16.0, 64.0]
    assert policy.delay(10) == policy.delay(600) == 3600.0  # never an overflow
