"""W1 on PostgreSQL: the generated banking service against the eventsourcing library and a raw
psycopg 3 baseline, and the generated service's throughput with 1, 2 and 4 processes.

W1 is bench/contenders.py's (ACCOUNTS x 20 commands: round 0 opens every account, then
deposits and withdrawals; the same seeded sequence, the same event data). The contenders:

  generated      `Service.submit` in-process, on the store `BANKING_DATABASE` names (a
                 postgresql:// URL, so `open_store` picks `PostgresEventStore`)
  eventsourcing  the eventsourcing library's Application on `eventsourcing.postgres`
                 (POSTGRES_* environment variables), the same work as in contenders.py
  raw            psycopg 3, per command: BEGIN; SELECT the stream; fold; INSERT; COMMIT
  generated-x2/x4  2 or 4 service processes on one database, each submitting its share of W1:
                 the commands of the accounts n with n % P == p, in W1's order (distinct
                 instances per process, so no two processes ever write the same stream)

This script starts its own throwaway PostgreSQL cluster (like runtime/tests/postgres_cluster.py:
Debian's binaries, initdb/pg_ctl as the postgres user when root, loopback, a free port) but
with the durability settings left at their defaults: fsync, synchronous_commit and
full_page_writes on. Each measurement gets a fresh database and fresh processes; a process
first connects and creates its tables, reports ready, and is timed from a common "go" to its
last command (connecting and schema creation are not timed, for any contender). With P
processes, throughput is all their commands over (last end - first start). The five
measurements rotate their order between repetitions, ratios are taken within a repetition,
and the medians are reported. CPU time per command is reported for the client processes and
for the whole server (every child of the postmaster), since client and server share the CPUs.
Other programs on the machine skew a small machine's figures badly: before each measurement
the script waits (up to --quiet-wait seconds) for the CPUs to be idle, records the CPUs other
programs took during it ("other_cpus"), and measures again (after waiting up to a minute for
quiet) when they took more than a quarter of a CPU. A measurement still disturbed makes its
repetition noisy: a noisy repetition is left out of the medians and replaced by another one
(at most 3 more); the JSON lists what was left out.

After the measurements, one profiled pass (untimed in the comparison) counts the round trips
(psycopg `Connection.wait` calls) and the statements per command of generated and raw, and the
time spent waiting on the server; `--cprofile` adds a cProfile of the generated worker.

usage: python bench/pg_w1.py [--quick] [--reps N] [--accounts N] [--no-profile] [--cprofile]
                             [--json PATH]
(needs psycopg and psycopg_pool: pip install -e 'runtime[postgres]' 'eventsourcing[postgres]')
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
TICK = os.sysconf("SC_CLK_TCK")
# name -> (worker kind, processes). "generated" is also the 1-process point of the scaling.
CONTENDERS: dict[str, tuple[str, int]] = {
    "generated": ("generated", 1),
    "eventsourcing": ("eventsourcing", 1),
    "raw": ("raw", 1),
    "generated-x2": ("generated", 2),
    "generated-x4": ("generated", 4),
}
TARGETS = {  # ratio -> (numerator, denominator, at least)
    "generated/eventsourcing": ("generated", "eventsourcing", 3.0),
    "generated/raw": ("generated", "raw", 0.6),
    "generated x4/x1": ("generated-x4", "generated", 1.5),
    "generated x2/x1": ("generated-x2", "generated", None),
}
PROFILE_ACCOUNTS = 100
# A measurement during which other programs kept more than this many CPUs busy on average is
# taken again: on a small machine, a neighbour's test run can halve a figure. Every sample
# records the CPUs others took ("other_cpus").
MAX_OTHER_CPUS = 0.25
NOISY_RETRIES = 1  # then the measurement is noisy, and so is its repetition: it does not count
NOISY_WAIT = 60.0  # seconds to wait for quiet before measuring again
EXTRA_REPS = 3  # repetitions run at most beyond --reps, to replace noisy ones
RUN_TIMEOUT = 300.0  # seconds one measurement may take before its processes are killed


# == the cluster ===============================================================================
def find_bindir() -> Path:
    """initdb/pg_ctl/postgres: $DRAFTSMAN_PGBIN, else Debian's newest /usr/lib/postgresql/*/bin."""
    candidates = [Path(os.environ["DRAFTSMAN_PGBIN"])] if os.environ.get("DRAFTSMAN_PGBIN") else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: tuple(int(n) for n in re.findall(r"\d+", p.parent.name)),
        reverse=True,
    )
    for path in candidates:
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")


def as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as `postgres`."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise SystemExit("running as root, but runuser (util-linux) is missing")
    return [runuser, "-u", "postgres", "--"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    bindir: Path
    folder: Path
    port: int
    pid: int  # the postmaster's

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{dbname}"


@contextlib.contextmanager
def cluster(settings: str = "") -> Iterator[Cluster]:
    """A new cluster with default durability (fsync on); stopped and deleted on exit.
    `settings`: more server options ("-c name=value ..."), for a diagnosis."""
    bindir, prefix = find_bindir(), as_postgres()
    folder = Path(tempfile.mkdtemp(prefix="pgw1-"))  # short: the socket lives there
    data = folder / "data"
    started: Cluster | None = None
    try:
        if prefix:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )  # (--no-sync: initdb's own files only; the server runs with fsync on)
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        for _attempt in range(5):  # a free port may be taken by someone else meanwhile
            port = free_port()
            options = (
                f"-c listen_addresses={HOST} -p {port} -k {folder} -c max_connections=60 {settings}"
            )
            done = subprocess.run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(folder / "log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                cwd=folder,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0:
                pid = int((data / "postmaster.pid").read_text().split()[0])
                started = Cluster(bindir, folder, port, pid)
                break
            time.sleep(0.2)
        if started is None:
            log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{log[-3000:]}")
        yield started
    finally:
        if started is not None:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                cwd=folder,
                capture_output=True,
                timeout=60,
                check=False,
            )
            if Path(f"/proc/{started.pid}").exists():  # pg_ctl failed: this postmaster only
                with contextlib.suppress(ProcessLookupError):
                    os.kill(started.pid, signal.SIGQUIT)
                time.sleep(1.0)
        shutil.rmtree(folder, ignore_errors=True)


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster's children (backends, WAL writer, ...) so far."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK


def wait_until_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (at most `limit` seconds) until the machine's other work leaves the CPUs idle:
    less than `threshold` of them busy over half a second. Returns the seconds waited."""
    started = time.monotonic()
    cpus = os.cpu_count() or 1
    while True:
        busy0 = machine_busy()
        time.sleep(0.5)
        if (machine_busy() - busy0) / (0.5 * cpus) < threshold:
            break
        if time.monotonic() - started > limit:
            break
    return time.monotonic() - started


# == workers (one fresh process each) ==========================================================
def shares(accounts: int, part: int, parts: int) -> list[tuple[int, str, str, float]]:
    """(W1 index, kind, account, amount) of this process's accounts, in W1's order."""
    from contenders import commands

    return [
        (i, kind, account, amount)
        for i, (kind, account, amount) in enumerate(commands(accounts))
        if int(account[8:]) % parts == part
    ]


def generated_worker(url: str) -> Any:
    os.environ["BANKING_DATABASE"] = url
    from banking.registry import REGISTRY
    from draftsman_runtime import Service

    service = Service(REGISTRY)  # Settings.from_env -> open_store -> PostgresEventStore
    assert type(service.store).__name__ == "PostgresEventStore", type(service.store)
    names = {
        "open": "OpenAccountRequested",
        "deposit": "DepositRequested",
        "withdraw": "WithdrawalRequested",
    }

    def run(work: list[tuple[int, str, str, float]]) -> tuple[int, int]:
        accepted = rejected = 0
        for i, kind, account, amount in work:  # as contenders.generated_w1
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

    return run, service.close


def eventsourcing_worker(url: str) -> Any:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    os.environ.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=parts.path.lstrip("/"),
        POSTGRES_HOST=parts.hostname or HOST,
        POSTGRES_PORT=str(parts.port or 5432),
        POSTGRES_USER=parts.username or "postgres",
        POSTGRES_PASSWORD="",  # (trust on loopback; the variable must be set)
    )

    from contenders import eventsourcing_bank

    bank, Account = eventsourcing_bank(100)  # classes, as in contenders.py
    app = bank()

    def run(work: list[tuple[int, str, str, float]]) -> tuple[int, int]:
        accepted = rejected = 0
        for _i, kind, number, amount in work:  # as contenders.eventsourcing_w1
            key = uuid.uuid5(uuid.NAMESPACE_URL, number)
            if kind == "open":
                app.save(Account(number, "x", amount))
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

    return run, app.close


RAW_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (stream TEXT NOT NULL, version BIGINT NOT NULL, "
    "type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, version))"
)


def raw_worker(url: str) -> Any:
    import psycopg
    from contenders import _fold, _payload

    conn = psycopg.connect(url, autocommit=True)
    cur = conn.cursor()
    cur.execute(RAW_SCHEMA)

    def run(work: list[tuple[int, str, str, float]]) -> tuple[int, int]:
        accepted = rejected = 0
        for i, kind, account, amount in work:  # as contenders.raw_w1
            cur.execute("BEGIN")
            rows = cur.execute(
                "SELECT type, data FROM events WHERE stream = %s ORDER BY version", (account,)
            ).fetchall()
            if kind == "open":
                ok = not rows
                name = "Opened"
            else:
                balance = _fold(rows)
                ok = bool(rows) and (kind == "deposit" or balance - amount >= 0)
                name = "Deposited" if kind == "deposit" else "Withdrawn"
            if ok:
                cur.execute(
                    "INSERT INTO events VALUES (%s, %s, %s, %s)",
                    (account, len(rows) + 1, name, _payload(name, account, amount, f"r{i}")),
                )
                accepted += 1
            else:
                rejected += 1
            cur.execute("COMMIT")
        return accepted, rejected

    return run, conn.close


WORKERS = {"generated": generated_worker, "eventsourcing": eventsourcing_worker, "raw": raw_worker}


class RoundTrips:
    """Counts psycopg's waits on the server (one per round trip outside pipeline mode), the
    time spent in them, and the statements sent, by their first words."""

    def __init__(self) -> None:
        import psycopg

        self.waits = 0
        self.waited = 0.0
        self.statements: Counter[str] = Counter()
        wait, execute = psycopg.Connection.wait, psycopg.Cursor.execute
        counter = self

        def counted_wait(conn: Any, gen: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return wait(conn, gen, *args, **kwargs)
            finally:
                counter.waited += time.perf_counter() - start
                counter.waits += 1

        def counted_execute(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counter.statements[statement_kind(query)] += 1
            return execute(cur, query, *args, **kwargs)

        psycopg.Connection.wait = counted_wait  # type: ignore[method-assign]
        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]

    def reset(self) -> None:
        self.waits, self.waited = 0, 0.0
        self.statements.clear()


def statement_kind(query: Any) -> str:
    if isinstance(query, bytes):
        text = query.decode(errors="replace")
    elif isinstance(query, str):
        text = query
    else:  # sql.Composed
        text = repr(query)[:80]
    text = " ".join(text.split())
    if "pg_advisory_xact_lock" in text and text.startswith("BEGIN"):
        return "BEGIN; SELECT pg_advisory_xact_lock(..)"
    if text.startswith("SELECT pg_advisory_xact_lock("):  # the lock's number is in the text
        return "SELECT pg_advisory_xact_lock(..)"
    if text.startswith("BEGIN ISOLATION LEVEL"):
        return "BEGIN"
    if text.startswith("WITH h AS"):
        return "WITH h AS (head) ... commit CTE"
    return text[:48] + ("..." if len(text) > 48 else "")


def worker(kind: str, url: str, accounts: int, part: int, parts: int, mode: str) -> None:
    """One process: set up, say ready, wait for go, run, report, wait for exit."""
    sys.path.insert(0, str(ROOT / "bench"))
    counter = RoundTrips() if mode == "count" else None
    work = shares(accounts, part, parts)
    run, close = WORKERS[kind](url)
    if counter is not None:
        counter.reset()  # count the commands only, not the setup
    print(json.dumps({"ready": True}), flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    profiler = None
    if mode == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()  # CLOCK_MONOTONIC: comparable between processes
    if profiler is not None:
        profiler.enable()
    accepted, rejected = run(work)
    if profiler is not None:
        profiler.disable()
    end = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result: dict[str, Any] = {
        "commands": accepted + rejected,
        "accepted": accepted,
        "rejected": rejected,
        "start": start,
        "end": end,
        "cpu": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
    }
    if counter is not None:
        result["waits"] = counter.waits
        result["waited"] = counter.waited
        result["statements"] = dict(counter.statements)
    if profiler is not None:
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        result["cprofile"] = out.getvalue()
    print(json.dumps(result), flush=True)
    sys.stdin.readline()  # "exit": stay connected until the server's CPU has been read
    close()


# == measurements ==============================================================================
def measure(
    pg: Cluster,
    admin: Any,
    env: dict[str, str],
    work: Path,
    name: str,
    accounts: int,
    mode: str = "plain",
    quiet: float = 0.0,
) -> dict[str, Any]:
    """One measurement of one contender, in a fresh database with fresh processes."""
    kind, parts = CONTENDERS[name]
    dbname = f"w1_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {dbname}")
    procs: list[subprocess.Popen[str]] = []
    logs = []
    try:
        for part in range(parts):
            log = (work / f"{dbname}-{part}.log").open("w+")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        PYTHON,
                        __file__,
                        "--worker",
                        kind,
                        pg.url(dbname),
                        str(accounts),
                        str(part),
                        str(parts),
                        mode,
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    env=env,
                )
            )
        deadline = time.monotonic() + RUN_TIMEOUT

        def line(proc: subprocess.Popen[str]) -> dict[str, Any]:
            assert proc.stdout is not None
            text = proc.stdout.readline()
            if not text:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                log = logs[procs.index(proc)]
                log.seek(0)
                raise RuntimeError(
                    f"{name} worker failed ({proc.returncode}):\n{log.read()[-3000:]}"
                )
            return dict(json.loads(text))

        for proc in procs:
            line(proc)  # ready
        waited = wait_until_quiet(quiet) if quiet > 0 else 0.0
        cpu0, busy0 = server_cpu(pg.pid), machine_busy()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [line(proc) for proc in procs]
        cpu1, busy1 = server_cpu(pg.pid), machine_busy()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("exit\n")
            proc.stdin.flush()
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            if proc.returncode != 0:
                raise RuntimeError(f"{name} worker exited with {proc.returncode}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    commands = sum(r["commands"] for r in results)
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    out: dict[str, Any] = {
        "processes": parts,
        "commands": commands,
        "accepted": sum(r["accepted"] for r in results),
        "rejected": sum(r["rejected"] for r in results),
        "seconds": seconds,
        "per_second": commands / seconds,
        "client_cpu_us": sum(r["cpu"] for r in results) / commands * 1e6,
        "server_cpu_us": (cpu1 - cpu0) / commands * 1e6,
        # the CPUs the rest of the machine took meanwhile (another program, say): 0 is quiet
        "other_cpus": max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - sum(r["cpu"] for r in results))
        / seconds,
        "waited_for_quiet": waited,
    }
    if mode == "count":
        out["round_trips"] = sum(r["waits"] for r in results) / commands
        out["waited_us"] = sum(r["waited"] for r in results) / commands * 1e6
        out["total_us"] = seconds / commands * 1e6
        statements: Counter[str] = Counter()
        for r in results:
            statements.update(r["statements"])
        out["statements"] = {k: v / commands for k, v in statements.most_common()}
    if mode == "cprofile":
        out["cprofile"] = results[0]["cprofile"]
    return out


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def steady(
    pg: Cluster,
    admin: Any,
    env: dict[str, str],
    work: Path,
    name: str,
    accounts: int,
    quiet: float,
    mode: str = "plain",
) -> dict[str, Any]:
    """A measurement during which other programs left the CPUs alone: measured again (after a
    longer wait for quiet) when they did not; marked noisy when they still did not."""
    for attempt in range(1 + NOISY_RETRIES):
        wait = quiet if attempt == 0 or quiet <= 0 else max(quiet, NOISY_WAIT)
        result = measure(pg, admin, env, work, name, accounts, mode, wait)
        result["attempts"] = attempt + 1
        if result["other_cpus"] <= MAX_OTHER_CPUS:
            return result
        print(
            f"  ({name}: {result['per_second']:.1f} commands/s, but other programs took "
            f"{result['other_cpus']:.2f} CPUs meanwhile"
            + ("; measuring again)" if attempt < NOISY_RETRIES else ")"),
            flush=True,
        )
    result["noisy"] = True
    return result


def noisy(repetition: dict[str, dict[str, Any]]) -> bool:
    return any(result.get("noisy") for result in repetition.values())


def benchmark(
    pg: Cluster,
    env: dict[str, str],
    work: Path,
    reps: int,
    accounts: int,
    profile: bool,
    cprofile: bool,
    quiet: float,
) -> dict[str, Any]:
    import psycopg

    names = list(CONTENDERS)
    ratios: dict[str, list[float]] = {}
    with psycopg.connect(pg.url("postgres"), autocommit=True) as admin:
        settings = {
            row[0]: row[1]
            for row in admin.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                (
                    [
                        "server_version",
                        "fsync",
                        "synchronous_commit",
                        "full_page_writes",
                        "wal_sync_method",
                        "shared_buffers",
                        "max_connections",
                    ],
                ),
            )
        }
        print(
            f"PostgreSQL {settings.get('server_version')} on {HOST}:{pg.port} (pid {pg.pid}): "
            f"fsync={settings.get('fsync')} synchronous_commit="
            f"{settings.get('synchronous_commit')} full_page_writes="
            f"{settings.get('full_page_writes')}; W1 = {accounts} accounts x 20 commands, "
            f"{reps} repetitions"
        )
        repetitions: list[dict[str, dict[str, Any]]] = []
        while (
            sum(not noisy(r) for r in repetitions) < reps and len(repetitions) < reps + EXTRA_REPS
        ):
            rep = len(repetitions)
            order = names[rep % len(names) :] + names[: rep % len(names)]
            repetition: dict[str, dict[str, Any]] = {}
            for name in order:
                repetition[name] = result = steady(pg, admin, env, work, name, accounts, quiet)
                print(
                    f"  rep {rep + 1} {name:14s} {result['per_second']:9.1f} commands/s "
                    f"({result['accepted']} accepted, {result['rejected']} rejected, "
                    f"{result['seconds']:.2f}s; other programs {result['other_cpus']:.2f} CPUs)"
                    + ("  NOISY" if result.get("noisy") else ""),
                    flush=True,
                )
            accepted = {repetition[n]["accepted"] for n in names}
            if len(accepted) != 1:  # the same work: the same commands accepted by every contender
                print(
                    f"  WARNING: the contenders accepted different numbers of commands: "
                    f"{ {n: repetition[n]['accepted'] for n in names} }"
                )
            repetitions.append(repetition)
            if noisy(repetition):
                print(f"  rep {rep + 1} was noisy: it does not count", flush=True)
        used = [r for r in repetitions if not noisy(r)] or repetitions  # all noisy: say so
        samples = {n: [r[n] for r in used] for n in names}
        for ratio, (top, bottom, _target) in TARGETS.items():
            ratios[ratio] = [r[top]["per_second"] / r[bottom]["per_second"] for r in used]
        report: dict[str, Any] = {
            "unit": "commands/s",
            "postgres": settings,
            "repetitions": len(used),
            "noisy_repetitions_left_out": len(repetitions) - len(used),
            "all_noisy": all(noisy(r) for r in repetitions),
            "contenders": {
                n: {
                    "processes": CONTENDERS[n][1],
                    "per_second": summary([s["per_second"] for s in samples[n]]),
                    "client_cpu_us": summary([s["client_cpu_us"] for s in samples[n]]),
                    "server_cpu_us": summary([s["server_cpu_us"] for s in samples[n]]),
                    "commands": samples[n][0]["commands"],
                    "accepted": samples[n][0]["accepted"],
                    "rejected": samples[n][0]["rejected"],
                    "samples": [s["per_second"] for s in samples[n]],
                    "other_cpus": [round(s["other_cpus"], 3) for s in samples[n]],
                    "attempts": [s["attempts"] for s in samples[n]],
                }
                for n in names
            },
            "ratios": {},
            "left_out": [
                {n: round(r[n]["per_second"], 1) for n in names}
                for r in repetitions
                if noisy(r) and used is not repetitions
            ],
        }
        for ratio, (_top, _bottom, target) in TARGETS.items():
            entry: dict[str, Any] = summary(ratios[ratio])
            entry["samples"] = ratios[ratio]
            if target is not None:
                entry["target"] = target
                entry["met"] = entry["median"] >= target
            report["ratios"][ratio] = entry
        small = min(accounts, PROFILE_ACCOUNTS)  # per-command counts: a small W1 will do
        if profile:
            report["profile"] = {
                n: steady(pg, admin, env, work, n, small, quiet, "count")
                for n in ("generated", "raw", "eventsourcing")
            }
        if cprofile:
            report["cprofile"] = measure(
                pg, admin, env, work, "generated", small, "cprofile", quiet
            )["cprofile"]
    return report


def print_report(report: dict[str, Any]) -> None:
    left_out = report["noisy_repetitions_left_out"]
    print(
        f"\nW1 on PostgreSQL (commands/s, median [min - max] of {report['repetitions']} "
        "repetitions"
        + (f", {left_out} noisy ones left out" if left_out else "")
        + ("; ALL NOISY: other programs kept the CPUs busy" if report["all_noisy"] else "")
        + "; CPU us per command)"
    )
    print(
        f"  {'contender':15s} {'procs':>5s} {'commands/s':>11s} {'range':>19s} "
        f"{'client CPU':>11s} {'server CPU':>11s}"
    )
    for name, c in report["contenders"].items():
        s = c["per_second"]
        print(
            f"  {name:15s} {c['processes']:5d} {s['median']:11.1f} "
            f"[{s['min']:7.1f} - {s['max']:7.1f}] {c['client_cpu_us']['median']:11.0f} "
            f"{c['server_cpu_us']['median']:11.0f}"
        )
    print("\n  ratio (median of per-repetition ratios)")
    for ratio, r in report["ratios"].items():
        target = ""
        if "target" in r:
            target = f"target >= {r['target']:.1f}x: {'met' if r['met'] else 'MISSED'}"
        print(f"  {ratio:24s} {r['median']:6.2f}x [{r['min']:.2f} - {r['max']:.2f}]  {target}")
    profile = report.get("profile")
    if profile:
        print("\n  profiled pass (1 process each): per command")
        print(f"  {'contender':15s} {'round trips':>11s} {'waiting us':>11s} {'total us':>9s}")
        for name, p in profile.items():
            note = "  (pipeline mode: waits >= round trips)" if name == "eventsourcing" else ""
            note += "  NOISY" if p.get("noisy") else ""
            print(
                f"  {name:15s} {p['round_trips']:11.2f} {p['waited_us']:11.0f} "
                f"{p['total_us']:9.0f}{note}"
            )
        for name in ("generated", "raw"):
            print(f"  statements per command, {name}:")
            for text, count in profile[name]["statements"].items():
                print(f"    {count:5.2f}  {text}")
    if report.get("cprofile"):
        print("\n  cProfile of the generated worker (top functions by own time):")
        print(report["cprofile"])


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    with contextlib.suppress(OSError, StopIteration):
        info["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    for package in ("draftsman-runtime", "eventsourcing", "psycopg", "psycopg-binary"):
        try:
            info[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            info[package] = None
    return info


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, url, accounts, part, parts, mode = sys.argv[2:8]
        worker(kind, url, int(accounts), int(part), int(parts), mode)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 accounts, 2 reps")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5)")
    parser.add_argument("--accounts", type=int, default=None, help="W1 accounts (default 200)")
    parser.add_argument("--no-profile", action="store_true", help="skip the round-trip count")
    parser.add_argument("--cprofile", action="store_true", help="also cProfile generated")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=10.0,
        metavar="S",
        help="before each measurement, wait up to S seconds for the machine's "
        "other programs to leave the CPUs idle (default 10; 0: never)",
    )
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    import importlib.util

    for module, install in (
        ("psycopg", "pip install -e 'runtime[postgres]'"),
        ("psycopg_pool", "pip install 'eventsourcing[postgres]'"),
    ):
        if importlib.util.find_spec(module) is None:
            raise SystemExit(f"{module} is missing (eventsourcing.postgres needs it): {install}")
    reps = args.reps or (2 if args.quick else 5)
    accounts = args.accounts or (100 if args.quick else 200)

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")  # runs the cleanup below

    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    report: dict[str, Any] = {
        "machine": machine(),
        "reps": reps,
        "accounts": accounts,
        "commands": accounts * 20,
        "quick": args.quick,
    }
    with tempfile.TemporaryDirectory(prefix="pgw1-bench-") as tmp:
        work = Path(tmp)
        build = subprocess.run(
            [
                PYTHON,
                "-m",
                "draftsman_gen",
                "build",
                str(ROOT / "examples/banking"),
                "--out",
                str(work / "banking"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode != 0:
            raise SystemExit(build.stderr)
        paths = [str(work / "banking"), str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        env.pop("BANKING_DATABASE", None)
        with cluster() as pg:
            report["w1"] = benchmark(
                pg, env, work, reps, accounts, not args.no_profile, args.cprofile, args.quiet_wait
            )
    report["seconds"] = time.monotonic() - started
    print_report(report["w1"])
    print(f"\n{report['seconds']:.0f}s in all; the cluster is stopped and deleted")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
