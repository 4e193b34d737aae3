"""One benchmark measurement in this (fresh) process; prints a JSON result.

usage: python bench/contenders.py CONTENDER WORKLOAD SYNCHRONOUS DATABASE [ACCOUNTS]
  CONTENDER  generated | eventsourcing | raw
  WORKLOAD   w1 (ACCOUNTS x 20 commands) | w2 (load one aggregate of 10,000 events)
The generated contender needs the banking example built and on PYTHONPATH.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

ROUNDS = 20
W2_EVENTS = 10_000
W2_LOADS = 200  # loads are timed one by one; the median of many steadies sub-millisecond timings


def commands(accounts: int) -> Iterator[tuple[str, str, float]]:
    """(kind, account, amount): per round, one command for every account; round 0 opens."""
    rng = random.Random(42)
    for round_ in range(ROUNDS):
        for n in range(accounts):
            account = f"NL01BANK{n:06d}"
            if round_ == 0:
                yield "open", account, 100.0
            else:
                yield ("deposit" if rng.random() < 0.6 else "withdraw"), account, float(rng.randint(1, 80))


# -- generated ---------------------------------------------------------------------------
def _generated_service(db: str, sync: str) -> Any:
    from banking.registry import REGISTRY
    from draftsman_runtime import Service, Settings, SQLiteEventStore

    settings = Settings(database=db, synchronous=sync)
    return Service(REGISTRY, SQLiteEventStore(db, synchronous=sync), settings=settings)


def generated_w1(db: str, sync: str, accounts: int) -> tuple[int, int]:
    service = _generated_service(db, sync)
    names = {"open": "OpenAccountRequested", "deposit": "DepositRequested",
             "withdraw": "WithdrawalRequested"}
    accepted = rejected = 0
    for i, (kind, account, amount) in enumerate(commands(accounts)):
        payload: dict[str, Any] = {"accountNumber": account}
        if kind == "open":
            payload.update(owner="x", initialDeposit=amount)
        else:
            payload.update(amount=amount, reference=f"r{i}")
        if service.submit(names[kind], payload).ok:
            accepted += 1
        else:
            rejected += 1
    return accepted, rejected


def generated_w2(db: str, sync: str, snapshots: bool) -> list[float]:
    service = _generated_service(db, sync)
    service.submit("OpenAccountRequested", {"accountNumber": "NL01BANK000001", "owner": "x"})
    for i in range(W2_EVENTS - 1):
        service.submit("DepositRequested", {"accountNumber": "NL01BANK000001", "amount": 1.0,
                                            "reference": f"r{i}"})
    if not snapshots:
        service.store._db.execute("DELETE FROM snapshots")
    agg = service.registry.aggregates["Account"]
    aggregate_id = service.store.resolve("Account", "NL01BANK000001")
    assert aggregate_id is not None
    timings = []
    for _ in range(W2_LOADS):
        service.work.forget()  # measure a load from the store, not from the document cache
        start = time.perf_counter()
        document, _version = service.work.current(agg, aggregate_id, "NL01BANK000001")
        timings.append(time.perf_counter() - start)
    assert document.balance == W2_EVENTS - 1
    return timings


# -- eventsourcing -----------------------------------------------------------------------
def _eventsourcing_app(db: str, sync: str, snapshot_interval: int | None) -> Any:
    import os

    from eventsourcing import sqlite as es_sqlite

    # Same durability as the others: eventsourcing sets WAL itself; add the synchronous level.
    original = es_sqlite.SQLiteConnectionPool._create_connection

    def create(self: Any) -> Any:
        connection = original(self)
        connection._sqlite_conn.execute(f"PRAGMA synchronous = {sync}")
        return connection

    es_sqlite.SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]

    os.environ.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=db)
    bank, account = eventsourcing_bank(snapshot_interval)
    return bank(), account


def eventsourcing_bank(snapshot_interval: int | None) -> tuple[Any, Any]:
    """W1's aggregate and application in the eventsourcing library: (Bank, Account) classes,
    on whatever persistence module the environment names (SQLite here, PostgreSQL in
    bench/pg_w1.py)."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Account(Aggregate):
        @event("Opened")
        def __init__(self, number: str, owner: str, balance: float) -> None:
            self.number = number
            self.owner = owner
            self.balance = balance

        @event("Deposited")
        def deposit(self, amount: float) -> None:
            self.balance += amount

        @event("Withdrawn")
        def withdraw(self, amount: float) -> None:
            self.balance -= amount

        @classmethod
        def create_id(cls, number: str, owner: str, balance: float) -> uuid.UUID:
            return uuid.uuid5(uuid.NAMESPACE_URL, number)

    class Bank(Application[uuid.UUID]):
        snapshotting_intervals = {Account: snapshot_interval} if snapshot_interval else {}

    return Bank, Account


def eventsourcing_w1(db: str, sync: str, accounts: int) -> tuple[int, int]:
    app, account_cls = _eventsourcing_app(db, sync, 100)
    accepted = rejected = 0
    for kind, number, amount in commands(accounts):
        key = uuid.uuid5(uuid.NAMESPACE_URL, number)
        if kind == "open":
            app.save(account_cls(number, "x", amount))
            accepted += 1
            continue
        account = app.repository.get(key)
        if kind == "deposit":
            account.deposit(amount)
        elif account.balance - amount < 0:
            rejected += 1
            continue
        else:
            account.withdraw(amount)
        app.save(account)
        accepted += 1
    return accepted, rejected


def eventsourcing_w2(db: str, sync: str, snapshots: bool) -> list[float]:
    app, account_cls = _eventsourcing_app(db, sync, 100 if snapshots else None)
    account = account_cls("NL01BANK000001", "x", 0.0)
    app.save(account)
    for n in range(1, W2_EVENTS):
        account.deposit(1.0)
        if n % 100 == 0 or n == W2_EVENTS - 1:
            app.save(account)  # saving also takes the snapshots when they are enabled
    timings = []
    for _ in range(W2_LOADS):
        start = time.perf_counter()
        loaded = app.repository.get(account.id)
        timings.append(time.perf_counter() - start)
    assert loaded.balance == W2_EVENTS - 1
    return timings


# -- raw sqlite3 -------------------------------------------------------------------------
RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (stream TEXT NOT NULL, version INTEGER NOT NULL,
    type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, version INTEGER NOT NULL,
    data TEXT NOT NULL) WITHOUT ROWID;
"""


def _raw(db: str, sync: str) -> sqlite3.Connection:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute(f"PRAGMA synchronous = {sync}")
    con.executescript(RAW_SCHEMA)
    return con


def _fold(rows: list[tuple[str, str]], balance: float = 0.0) -> float:
    for type_, data in rows:
        event = json.loads(data)
        if type_ == "Opened":
            balance = event["initialDeposit"]
        elif type_ == "Deposited":
            balance += event["amount"]
        else:
            balance -= event["amount"]
    return balance


def _payload(type_: str, account: str, amount: float, reference: str) -> str:
    """The same event data the generated service stores, so JSON costs are comparable."""
    if type_ == "Opened":
        return json.dumps({"accountNumber": account, "owner": "x", "initialDeposit": amount})
    return json.dumps({"accountNumber": account, "amount": amount, "reference": reference})


def raw_w1(db: str, sync: str, accounts: int) -> tuple[int, int]:
    con = _raw(db, sync)
    accepted = rejected = 0
    for i, (kind, account, amount) in enumerate(commands(accounts)):
        con.execute("BEGIN IMMEDIATE")
        rows = con.execute("SELECT type, data FROM events WHERE stream = ? ORDER BY version",
                           (account,)).fetchall()
        if kind == "open":
            ok = not rows
            event = "Opened"
        else:
            balance = _fold(rows)
            ok = bool(rows) and (kind == "deposit" or balance - amount >= 0)
            event = "Deposited" if kind == "deposit" else "Withdrawn"
        if ok:
            con.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                        (account, len(rows) + 1, event, _payload(event, account, amount, f"r{i}")))
            accepted += 1
        else:
            rejected += 1
        con.execute("COMMIT")
    return accepted, rejected


def raw_w2(db: str, sync: str, snapshots: bool) -> list[float]:
    con = _raw(db, sync)
    con.execute("BEGIN")
    con.execute("INSERT INTO events VALUES (?, 1, 'Opened', ?)", ("s", _payload("Opened", "s", 0.0, "")))
    con.executemany("INSERT INTO events VALUES ('s', ?, 'Deposited', ?)",
                    [(v, _payload("Deposited", "s", 1.0, f"r{v}")) for v in range(2, W2_EVENTS + 1)])
    if snapshots:
        version = W2_EVENTS // 100 * 100
        balance = float(version - 1)
        con.execute("INSERT INTO snapshots VALUES ('s', ?, ?)", (version, json.dumps({"balance": balance})))
    con.execute("COMMIT")
    timings = []
    for _ in range(W2_LOADS):
        start = time.perf_counter()
        snap = con.execute("SELECT version, data FROM snapshots WHERE stream = 's'").fetchone()
        after, balance = (snap[0], json.loads(snap[1])["balance"]) if snap else (0, 0.0)
        rows = con.execute("SELECT type, data FROM events WHERE stream = 's' AND version > ? "
                           "ORDER BY version", (after,)).fetchall()
        balance = _fold(rows, balance)
        timings.append(time.perf_counter() - start)
    assert balance == W2_EVENTS - 1
    return timings


RUNNERS: dict[str, dict[str, Callable[..., Any]]] = {
    "generated": {"w1": generated_w1, "w2": generated_w2},
    "eventsourcing": {"w1": eventsourcing_w1, "w2": eventsourcing_w2},
    "raw": {"w1": raw_w1, "w2": raw_w2},
}


def main() -> None:
    contender, workload, sync, db = sys.argv[1:5]
    if workload == "w1":
        accounts = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
        start = time.perf_counter()
        accepted, rejected = RUNNERS[contender]["w1"](db, sync, accounts)
        elapsed = time.perf_counter() - start
        total = accepted + rejected
        print(json.dumps({"commands": total, "accepted": accepted, "rejected": rejected,
                          "seconds": elapsed, "per_second": total / elapsed}))
    else:
        snapshots = workload == "w2-snapshots"
        timings = RUNNERS[contender]["w2"](db, sync, snapshots)
        print(json.dumps({"median_ms": statistics.median(timings) * 1000,
                          "min_ms": min(timings) * 1000}))


if __name__ == "__main__":
    main()
