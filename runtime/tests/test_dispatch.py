"""Delivery of domain events: every delivery ends recorded (done, rejected with its reason,
or dead-lettered after its retries), redelivery works after a fix, and several dispatchers
or a SIGKILL never lose or double an effect."""

from __future__ import annotations

import json
import logging
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import HERE, Clock, make_service
from toy import model
from toy.registry import COUNTER, REGISTRY, TRIGGERS

from draftsman_runtime import Registry, Service
from draftsman_runtime.store import NewDelivery, Snapshot

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


# -- real processes ------------------------------------------------------------------------
def _fill(path: Path, counters: int, adds: int) -> None:
    service = make_service(str(path))
    for c in range(counters):
        assert service.submit("CreateCounter", {"name": f"c{c}", "limit": 10**6}).ok
        for n in range(adds):
            add(service, 2, name=f"c{c}", ref=f"c{c}-{n}")
    service.close()


def _check_exactly_once(path: Path, counters: int, adds: int) -> None:
    db = sqlite3.connect(path)
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    assert statuses == {"done": counters * adds}
    tally_ids = dict(db.execute("SELECT key, id FROM keychain WHERE aggregate = 'Tally'"))
    service = make_service(str(path))
    for c in range(counters):
        counted = db.execute(
            "SELECT COUNT(*) FROM events WHERE aggregate = 'Tally' AND id = ?",
            (tally_ids[f"c{c}"],),
        ).fetchone()[0]
        assert counted == adds + 1, f"c{c}: {counted - 1} Counted events for {adds} deliveries"
        assert (service.show("Tally", f"c{c}") or {})["total"] == 2 * adds
    service.close()


def test_two_dispatcher_processes_give_each_delivery_one_effect(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    _fill(path, counters=4, adds=300)
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(path), "dispatch"],
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
    _check_exactly_once(path, counters=4, adds=300)


def test_sigkill_during_dispatch_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    _fill(path, counters=3, adds=400)
    rng = random.Random(11)
    kills = 0
    for _round in range(40):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(path), "step"], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # it has started delivering
        time.sleep(rng.uniform(0.0, 0.02))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        pending = (
            sqlite3.connect(path)
            .execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
            .fetchone()[0]
        )
        if pending == 0:
            break
    assert kills >= 3
    finish = subprocess.run(
        [sys.executable, str(WORKER), str(path), "dispatch"],
        input="go\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(finish.stdout.splitlines()[-1])["total"] >= 0
    _check_exactly_once(path, counters=3, adds=400)


def test_retry_delays_grow_and_stop_growing() -> None:
    from draftsman_runtime import RetryPolicy

    policy = RetryPolicy(max_attempts=1000)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 4.0, 16.0, 64.0]
    assert policy.delay(10) == policy.delay(600) == 3600.0  # never an overflow
