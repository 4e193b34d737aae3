"""Generated services under real, long-lived processes: concurrent writers, SIGKILL, and the
stress run (4 writers, a dispatcher worker and a purge loop on one SQLite file)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import ROOT
from draftsman_runtime import SQLiteEventStore
from helpers import build

WORKER = ROOT / "tests" / "runtime_worker.py"
ACCOUNTS = 10


def env(out: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(out)}


def python(out: Path, code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env(out), check=True,
                          capture_output=True, text=True, timeout=300)
    return done.stdout


def open_accounts(out: Path, package: str, db: Path, command: str, extra: str) -> None:
    python(out, (
        "import sys\n"
        "from draftsman_runtime import Service, Settings, SQLiteEventStore\n"
        f"from {package}.registry import REGISTRY\n"
        "s = Service(REGISTRY, SQLiteEventStore(sys.argv[1]), settings=Settings(sys.argv[1]))\n"
        f"for n in range({ACCOUNTS}):\n"
        f"    assert s.submit({command!r}, {{'accountNumber': f'NL01BANK{{n:04d}}'{extra}}}).ok\n"
    ), str(db))


def deposit_worker(out: Path, package: str, db: Path, name: str, count: int,
                   seed: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), package, str(db), "deposit", name, str(count),
         str(ACCOUNTS), str(seed)], env=env(out), stdout=subprocess.PIPE, text=True)


def results_of(procs: list[subprocess.Popen[str]]) -> list[list[object]]:
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    results = [json.loads(line) for out in outputs for line in out.splitlines()]
    return [r for r in results if r != ["done"]]


def shown(out: Path, package: str, db: Path, aggregate: str) -> dict[str, dict[str, object]]:
    """The document of every account, as a fresh process sees it."""
    return json.loads(python(out, (
        "import json, sys\n"
        "from draftsman_runtime import Service, Settings, SQLiteEventStore\n"
        f"from {package}.registry import REGISTRY\n"
        "s = Service(REGISTRY, SQLiteEventStore(sys.argv[1]), settings=Settings(sys.argv[1]))\n"
        f"print(json.dumps({{f'NL01BANK{{n:04d}}': s.show({aggregate!r}, f'NL01BANK{{n:04d}}') "
        f"for n in range({ACCOUNTS})}}))\n"
    ), str(db)))


def heads_and_versions(db: Path, aggregate: str) -> dict[str, tuple[int, list[int]]]:
    """Per business key: the head the store reports and the versions of the events stored."""
    store = SQLiteEventStore(str(db))
    result = {}
    for key, agg_id in store.keys(aggregate):
        head = store.lookup(aggregate, key, "none", None, 0.0).head
        assert head is not None
        result[key] = (head, [e.version for e in store.history(aggregate, agg_id)])
    store.close()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return result


def expected_balances(results: list[list[object]]) -> dict[str, int]:
    totals: dict[str, int] = Counter()
    for _ref, number, amount, outcome in results:
        assert outcome == "ok"
        totals[str(number)] += int(amount)  # type: ignore[call-overload]
    return {f"NL01BANK{n:04d}": totals.get(f"NL01BANK{n:04d}", 0) for n in range(ACCOUNTS)}


def test_two_processes_500_commands_each_lose_nothing(generated: Path, tmp_path: Path) -> None:
    out, db = generated / "banking", tmp_path / "bank.sqlite3"
    open_accounts(out, "banking", db, "OpenAccountRequested", ", 'owner': 'x'")
    procs = [deposit_worker(out, "banking", db, f"w{n}", 500, seed=n) for n in range(2)]
    results = results_of(procs)
    assert len(results) == 1000
    assert Counter(r[3] for r in results) == {"ok": 1000}, "no command may be lost to a conflict"
    stored = sqlite3.connect(db).execute(
        "SELECT data FROM events WHERE type = 'MoneyDeposited'").fetchall()
    assert sorted(json.loads(d)["reference"] for (d,) in stored) == sorted(
        str(r[0]) for r in results)  # each exactly once
    for head, versions in heads_and_versions(db, "Account").values():
        assert versions == list(range(1, head + 1))
    balances = {k: v["balance"] for k, v in shown(out, "banking", db, "Account").items()}
    assert balances == {k: float(v) for k, v in expected_balances(results).items()}


def test_sigkill_never_leaves_a_partial_command(generated: Path, tmp_path: Path) -> None:
    out, db = generated / "banking", tmp_path / "bank.sqlite3"
    open_accounts(out, "banking", db, "OpenAccountRequested", ", 'owner': 'x'")
    rng = random.Random(7)
    kills = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        proc = deposit_worker(out, "banking", db, "k", 200, seed=1)
        assert proc.stdout is not None
        # Let it finish a random number of commands, then kill it at a random moment of the
        # next ones (already-processed commands are skipped by idempotency on restart).
        target = rng.randint(1, 40)
        lines: list[str] = []
        while sum('"ok"]' in line for line in lines) < target:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or '["done"]' in line:
                break
        time.sleep(rng.uniform(0, 0.003))
        if proc.poll() is None and '["done"]' not in "".join(lines):
            proc.send_signal(signal.SIGKILL)
            kills += 1
        output = "".join(lines) + proc.communicate()[0]
        if '["done"]' in output:
            break
    else:
        raise AssertionError("the worker never finished")
    assert kills >= 3
    con = sqlite3.connect(db)
    stored = [json.loads(d) for (d,) in con.execute(
        "SELECT data FROM events WHERE type = 'MoneyDeposited'")]
    assert Counter(e["reference"] for e in stored) == {f"k-{i}": 1 for i in range(200)}
    records = {k for (k,) in con.execute(
        "SELECT key FROM idempotency WHERE flow = 'Account.Deposit'")}
    assert records == {json.dumps([f"k-{i}"], separators=(",", ":")) for i in range(200)}
    for head, versions in heads_and_versions(db, "Account").values():
        assert versions == list(range(1, head + 1))


def test_stress_writers_dispatcher_and_purge_on_one_file(tmp_path: Path) -> None:
    """4 writer processes, a `dispatch --follow` worker and a purge loop at once, with events
    that expire after one second and snapshots every 5 events: no lost update, no reused
    version, every balance and every statement right."""
    out, db = tmp_path / "ledger", tmp_path / "ledger.sqlite3"
    build(ROOT / "tests" / "models" / "ledger", out)
    open_accounts(out, "ledger", db, "OpenRequested", "")
    dispatcher = subprocess.Popen(
        [sys.executable, "-m", "ledger", "dispatch", "--follow", "--poll", "0.05"],
        env={**env(out), "LEDGER_DATABASE": str(db)}, stderr=subprocess.PIPE, text=True)
    purger = subprocess.Popen([sys.executable, str(WORKER), "ledger", str(db), "purge", "8"],
                              env=env(out), stdout=subprocess.PIPE, text=True)
    writers = [deposit_worker(out, "ledger", db, f"w{n}", 400, seed=n) for n in range(4)]
    results = results_of(writers)
    purged = json.loads(purger.communicate(timeout=120)[0])["deleted"]
    deadline = time.monotonic() + 120
    con = sqlite3.connect(db)
    while con.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'").fetchone()[0]:
        assert time.monotonic() < deadline, "the dispatcher did not catch up"
        time.sleep(0.1)
    dispatcher.send_signal(signal.SIGTERM)
    _out, errors = dispatcher.communicate(timeout=60)
    assert dispatcher.returncode == 0, errors

    assert len(results) == 1600
    assert purged > 0, "the purge loop must have deleted events while the others ran"
    balances = expected_balances(results)
    accounts = shown(out, "ledger", db, "Account")
    statements = shown(out, "ledger", db, "Statement")
    deposits = Counter(str(r[1]) for r in results)
    for number, balance in balances.items():
        assert accounts[number]["balance"] == balance, number
        assert statements[number]["total"] == balance, number
        assert statements[number]["deposits"] == deposits[number], number
    for number, (head, versions) in heads_and_versions(db, "Account").items():
        assert head == 1 + deposits[number], number  # every version used exactly once
        assert versions == list(range(head - len(versions) + 1, head + 1)), number
    # Every Deposited event was delivered once, from a version no other event had.
    origins = [o for (o,) in con.execute(
        "SELECT origin FROM deliveries WHERE event_type = 'Deposited'")]
    assert len(origins) == len(set(origins)) == 1600
    statuses = dict(con.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    assert statuses == {"done": 1600 + ACCOUNTS}
