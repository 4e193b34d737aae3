"""The generated service under real processes: concurrent writers and SIGKILL."""

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

WORKER = ROOT / "tests" / "runtime_worker.py"
ACCOUNTS = 10


def open_accounts(generated: Path, db: Path) -> None:
    code = (
        "import sys\n"
        "from banking.service import BankingService\n"
        "from banking.store import SQLiteEventStore\n"
        "s = BankingService(SQLiteEventStore(sys.argv[1]))\n"
        f"for n in range({ACCOUNTS}):\n"
        "    assert s.submit('OpenAccountRequested', "
        "{'accountNumber': f'NL01BANK{n:04d}', 'owner': 'x'}).ok\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], env=env(generated), check=True)


def env(generated: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(generated / "banking")}


def worker(generated: Path, db: Path, name: str, count: int, seed: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), name, str(count), str(ACCOUNTS), str(seed)],
        env=env(generated), stdout=subprocess.PIPE, text=True)


def stored_deposits(db: Path) -> list[tuple[str, int, str, float]]:
    """(aggregate id, version, reference, amount) of every stored MoneyDeposited event."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, version, data FROM events WHERE type = 'MoneyDeposited'").fetchall()
    return [(r[0], r[1], json.loads(r[2])["reference"], json.loads(r[2])["amount"]) for r in rows]


def assert_gapless(db: Path) -> None:
    con = sqlite3.connect(db)
    for (agg_id,) in con.execute("SELECT DISTINCT id FROM events"):
        versions = [v for (v,) in con.execute(
            "SELECT version FROM events WHERE id = ? ORDER BY version", (agg_id,))]
        assert versions == list(range(1, len(versions) + 1)), agg_id
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def balances(generated: Path, db: Path) -> dict[str, float]:
    code = (
        "import json, sys\n"
        "from banking.service import BankingService\n"
        "from banking.store import SQLiteEventStore\n"
        "s = BankingService(SQLiteEventStore(sys.argv[1]))\n"
        f"print(json.dumps({{f'NL01BANK{{n:04d}}': s.show('Account', f'NL01BANK{{n:04d}}')['balance'] "
        f"for n in range({ACCOUNTS})}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(db)], env=env(generated),
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def test_two_processes_500_commands_each_lose_nothing(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    open_accounts(generated, db)
    procs = [worker(generated, db, f"w{n}", 500, seed=n) for n in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    results = [json.loads(line) for out in outputs for line in out.splitlines()]
    results = [r for r in results if r != ["done"]]
    assert len(results) == 1000
    assert Counter(r[3] for r in results) == {"ok": 1000}, "no command may be lost to a conflict"
    stored = stored_deposits(db)
    assert sorted(s[2] for s in stored) == sorted(r[0] for r in results)  # each exactly once
    assert_gapless(db)
    expected: dict[str, float] = Counter()
    for _ref, account, amount, _ in results:
        expected[account] += amount
    assert balances(generated, db) == {k: float(v) for k, v in expected.items()} | {
        k: 0.0 for k in balances(generated, db) if k not in expected}


def test_sigkill_never_leaves_a_partial_command(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    open_accounts(generated, db)
    rng = random.Random(7)
    kills = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        proc = worker(generated, db, "k", 200, seed=1)
        assert proc.stdout is not None
        # Let it finish a random number of commands, then kill it at a random moment of
        # the next ones (already-processed commands are skipped by idempotency on restart).
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
        out = "".join(lines) + proc.communicate()[0]
        if '["done"]' in out:
            break
    else:
        raise AssertionError("the worker never finished")
    assert kills >= 3
    # every command is there exactly once: its event and its idempotency record, or neither
    stored = stored_deposits(db)
    references = Counter(s[2] for s in stored)
    assert references == {f"k-{i}": 1 for i in range(200)}
    con = sqlite3.connect(db)
    records = {k for (k,) in con.execute("SELECT key FROM idempotency WHERE flow = 'Account.Deposit'")}
    assert records == {json.dumps([f"k-{i}"], separators=(",", ":")) for i in range(200)}
    assert_gapless(db)
    per_account: dict[str, float] = Counter()
    account_of = dict(con.execute("SELECT id, key FROM keychain"))
    for agg_id, _v, _ref, amount in stored:
        per_account[account_of[agg_id]] += amount
    for account, balance in balances(generated, db).items():
        assert balance == per_account.get(account, 0.0)
