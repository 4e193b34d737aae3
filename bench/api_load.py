"""Load benchmark of the API, on loopback: the same command (OpenAccountRequested, a new
account per request) three ways, side by side, with 1, 4 and 16 concurrent clients:

  inproc     `Service.accept(...)` called in-process by N threads (no HTTP)
  starlette  a plain starlette endpoint, POST /submit {"command", "payload"} -> accept, served
             by uvicorn in its own process, one worker, with a dispatcher thread like the real
             server's (this script, `--serve-plain`)
  graphql    the real server: `python -m banking serve` (one worker), a JWT bearer token

Every scenario (contender x clients) gets a fresh database and a fresh process. Clients are
asyncio tasks in this process, each with its own keep-alive connection (threads for inproc):
by default a minimal asyncio HTTP/1.1 client, or httpx.AsyncClient with `--client httpx`. On a
2-core machine client and server share the CPU, and httpx costs the client more CPU per request
than the plain starlette server spends answering it: with httpx the starlette figure measures
the client. A run sends a fixed number of requests (`--requests`, after a short warm-up) and
is stopped at hard time limits (`--timeout` per scenario, `--budget` for the whole run):
requests not answered by then count as errors. Reported per scenario: requests/s, p50/p99
latency (ms), errors, and CPU time per request of the server process (and of the client): the
CPU figures do not depend on who waits for whom on a small machine. The headline is the
GraphQL/starlette throughput ratio at 16 clients (target >= 0.5).

usage: python bench/api_load.py [--quick] [--requests N] [--clients 1 4 16] [--client raw|httpx]
                                [--no-dispatch] [--timeout S] [--budget S] [--json PATH]
(needs the api extra and httpx: pip install -e 'runtime[api]' httpx)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CONTENDERS = ["inproc", "starlette", "graphql"]
COMMAND = "OpenAccountRequested"
MUTATION = (
    "mutation($i: OpenAccountRequestedInput!) "
    "{ Banking { openAccount(input: $i) { correlationId } } }"
)
API_KEY = "benchkey"
TARGET = 0.5  # GraphQL/starlette throughput at the highest client count
MAX_SHOWN_ERRORS = 5
TICK = os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        info["cpu"] = model
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    for package in (
        "draftsman-runtime",
        "uvicorn",
        "starlette",
        "ariadne",
        "graphql-core",
        "httpx",
        "PyJWT",
        "uvloop",
        "httptools",
    ):
        try:
            info[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            info[package] = None
    return info


def payload(n: int) -> dict[str, Any]:
    """The command of request n: a new account each (numbers are unique per database)."""
    return {"accountNumber": f"NL{n % 100:02d}BENCH{n:08d}", "owner": "Ada", "initialDeposit": 1.0}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize(
    latencies: list[float], elapsed: float, errors: int, shown: list[str], timed_out: bool
) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "ok": len(latencies),
        "errors": errors,
        "error_samples": shown,
        "timed_out": timed_out,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else float("nan"),
    }


def pending_deliveries(db: Path) -> int:
    """Commands and events stored but not yet run by the dispatcher."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as connection:
        row = connection.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        return int(row.fetchone()[0])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# -- contender: in-process ---------------------------------------------------------------------
def inproc(clients: int, requests: int, warmup: int, timeout: float) -> dict[str, Any]:
    """`Service.accept` from `clients` threads on one Service (the store serializes them)."""
    from banking.registry import REGISTRY
    from draftsman_runtime import Service

    service = Service(REGISTRY)
    deadline = time.monotonic() + timeout
    for n in range(warmup):
        if time.monotonic() < deadline:
            service.accept(COMMAND, payload(10_000_000 + n))
    numbers = iter(range(requests))
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []

    def client(mine: list[float]) -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            body = payload(n)
            start = time.perf_counter()
            try:
                correlation = service.accept(COMMAND, body)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if not correlation:
                errors.append("no correlation id")
                continue
            mine.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    cpu = time.process_time()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    service.close()
    flat = [x for mine in latencies for x in mine]
    unsent = requests - len(flat) - len(errors)
    shown = errors[:MAX_SHOWN_ERRORS]
    if unsent > 0:
        shown.append(f"hard time limit of {timeout:.0f}s reached: {unsent} request(s) not sent")
    result = summarize(flat, elapsed, len(errors) + unsent, shown, unsent > 0)
    result["server_cpu_us"] = cpu / max(1, len(flat)) * 1e6  # the caller is the server here
    result["client_cpu_us"] = None
    result["with_flows_cpu_us"] = result["backlog"] = result["drain_s"] = None  # no flows run
    return result


# -- contender: plain starlette ----------------------------------------------------------------
def serve_plain(port: int, dispatch: bool) -> None:
    """A plain JSON endpoint on the same Service.accept, set up like `banking serve`: one
    uvicorn worker, the handler on the event loop, a dispatcher thread woken per command."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    import uvicorn
    from banking.registry import REGISTRY
    from draftsman_runtime import PayloadError, Service, StoreError
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    service = Service(REGISTRY)
    wake = threading.Event()

    async def submit(request: Request) -> Response:
        try:
            body = await request.json()
            correlation = service.accept(body["command"], body["payload"])
        except (ValueError, KeyError, TypeError, PayloadError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        wake.set()
        return JSONResponse({"correlationId": correlation})

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    def dispatch_loop(stop: threading.Event) -> None:  # as draftsman_runtime.api's
        worker = Service(REGISTRY)
        try:
            while not stop.is_set():
                wake.clear()
                worker.dispatch()
                next_due = worker.store.next_due()
                wait = 1.0 if next_due is None else min(1.0, max(0.0, next_due - time.time()))
                wake.wait(wait)
        finally:
            worker.close()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=dispatch_loop, args=(stop,), daemon=True)
        if dispatch:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            wake.set()
            if dispatch:
                thread.join(timeout=30)
            service.close()

    app = Starlette(
        routes=[Route("/submit", submit, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uvicorn.Server(config).run()


# -- HTTP contenders: server process and clients ------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process on a free loopback port, up once /healthz answers."""

    def __init__(self, args: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.log = log
        self.handle = log.open("w")
        self.process = subprocess.Popen(args, env=env, stdout=self.handle, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.process.returncode}):\n"
                    f"{self.log.read_text()[-3000:]}"
                )
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz in {timeout:.0f}s")

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.handle.close()


def request_for(
    kind: str, port: int, token: str
) -> tuple[str, dict[str, str], Callable[[int], bytes], Callable[[Any], str]]:
    """(url, headers, body of request n, check of an answer: "" or what is wrong)."""
    headers = {"content-type": "application/json"}
    if kind == "graphql":
        headers["authorization"] = f"Bearer {token}"

        def body(n: int) -> bytes:
            return json.dumps({"query": MUTATION, "variables": {"i": payload(n)}}).encode()

        def check(answer: Any) -> str:
            try:
                if (
                    answer.get("errors")
                    or not answer["data"]["Banking"]["openAccount"]["correlationId"]
                ):
                    return json.dumps(answer)[:300]
            except (KeyError, TypeError, AttributeError):
                return json.dumps(answer)[:300]
            return ""

        return f"http://127.0.0.1:{port}/graphql", headers, body, check

    def plain_body(n: int) -> bytes:
        return json.dumps({"command": COMMAND, "payload": payload(n)}).encode()

    def plain_check(answer: Any) -> str:
        ok = isinstance(answer, dict) and answer.get("correlationId")
        return "" if ok else json.dumps(answer)[:300]

    return f"http://127.0.0.1:{port}/submit", headers, plain_body, plain_check


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client on one connection: one write per request, a
    Content-Length answer. Its CPU cost per request is a fraction of httpx's, so that on a
    small machine the client does not decide the throughput of the faster server."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        host_port, self.path = url.removeprefix("http://").split("/", 1)
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.head = (
            f"POST /{self.path} HTTP/1.1\r\nhost: {host_port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, content: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"%scontent-length: %d\r\n\r\n%s" % (self.head, len(content), content))
        try:
            return await self._answer(self.reader)
        except (OSError, EOFError, ValueError, RuntimeError, asyncio.IncompleteReadError):
            await self.aclose()  # the next request opens a new connection
            raise

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"an answer without content-length: {head[:200]!r}")
        return status, await reader.readexactly(length)

    async def aclose(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


class HttpxConnection:
    """One httpx.AsyncClient limited to one keep-alive connection."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        import httpx

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(limits=limits, timeout=30.0)
        self.url, self.headers = url, headers

    async def post(self, content: bytes) -> tuple[int, bytes]:
        response = await self.client.post(self.url, content=content, headers=self.headers)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


def skip_missing_sniffio() -> None:
    """httpcore tries `import sniffio` several times per request; without sniffio installed
    each failed import walks sys.path again (~0.5 ms per request here). Record the absence
    once, so that the client measures HTTP rather than the import system."""
    import importlib.util

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment] # "import sniffio" fails fast


async def http_load(
    kind: str,
    port: int,
    token: str,
    clients: int,
    requests: int,
    warmup: int,
    timeout: float,
    server: Server,
    client_kind: str,
    db: Path,
    dispatch: bool,
) -> dict[str, Any]:
    url, headers, body, check = request_for(kind, port, token)
    errors: list[str] = []
    error_count = 0
    numbers = iter(range(requests))
    warm = iter(range(10_000_000, 10_000_000 + warmup))

    async def one(client: Any, n: int, latencies: list[float] | None) -> None:
        nonlocal error_count
        content = body(n)
        start = time.perf_counter()
        try:
            status, answer = await client.post(content)
            problem = "" if status == 200 else f"HTTP {status}: "
            problem += check(json.loads(answer))
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            problem = f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - start
        if problem:
            error_count += 1
            if len(errors) < MAX_SHOWN_ERRORS:
                errors.append(problem)
        elif latencies is not None:
            latencies.append(elapsed)

    async def client_task(client: Any, source: Any, latencies: list[float] | None) -> None:
        for n in source:
            await one(client, n, latencies)

    connection = RawConnection if client_kind == "raw" else HttpxConnection
    sessions = [connection(url, headers) for _ in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    timed_out = False
    deadline = time.monotonic() + timeout
    start = time.perf_counter()
    cpu_first = cpu_server = server.cpu()
    cpu_client = time.process_time()
    try:
        try:
            # warm-up: every connection opened, the code paths run once, not timed
            await asyncio.wait_for(
                asyncio.gather(*(client_task(s, warm, None) for s in sessions)), timeout
            )
            cpu_server, cpu_client = server.cpu(), time.process_time()
            start = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        client_task(s, numbers, mine)
                        for s, mine in zip(sessions, latencies, strict=True)
                    )
                ),
                max(0.0, deadline - time.monotonic()),
            )
        except TimeoutError:
            timed_out = True
        elapsed = time.perf_counter() - start
        cpu_server, cpu_client = server.cpu() - cpu_server, time.process_time() - cpu_client
    finally:
        for session in sessions:
            await session.aclose()
    # With a dispatcher, the flows of the commands run in the same process, behind the API:
    # how far behind it is when the last answer arrives, and the CPU per request once it
    # has caught up (warm-up included, from the first request on).
    backlog = drain = with_flows = None
    if dispatch:
        backlog = pending = pending_deliveries(db)
        drained = time.monotonic()
        while pending and time.monotonic() < deadline + 30:
            await asyncio.sleep(0.05)
            pending = pending_deliveries(db)
        if pending:
            errors.append(f"the dispatcher did not catch up: {pending} deliveries pending")
            error_count += 1
        else:
            drain = time.monotonic() - drained
            sent = warmup + len([x for mine in latencies for x in mine]) + error_count
            with_flows = (server.cpu() - cpu_first) / sent * 1e6
    flat = [x for mine in latencies for x in mine]
    unsent = requests - len(flat) - error_count
    if timed_out:
        errors.append(
            f"hard time limit of {timeout:.0f}s reached: {unsent} request(s) not answered"
        )
    result = summarize(flat, elapsed, error_count + max(0, unsent), errors, timed_out)
    result["server_cpu_us"] = cpu_server / max(1, len(flat)) * 1e6
    result["client_cpu_us"] = cpu_client / max(1, len(flat)) * 1e6
    result["with_flows_cpu_us"], result["backlog"], result["drain_s"] = with_flows, backlog, drain
    return result


# -- orchestration ----------------------------------------------------------------------------
def bearer_token(secret: str, env: dict[str, str]) -> str:
    """A token for the mutation: with the role its access asks for, if any (read from the
    built package, since the example's access rules may change)."""
    import jwt

    probe = (
        "from banking.registry import REGISTRY\n"
        f"m = next(m for m in REGISTRY.mutations if m.command == {COMMAND!r})\n"
        "print(m.access.mode, m.access.role)"
    )
    out = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"cannot read the access of {COMMAND}:\n{out.stderr[-2000:]}")
    mode, _, role = out.stdout.strip().partition(" ")
    claims: dict[str, Any] = {"sub": "bench", "exp": time.time() + 3600}
    if mode == "role" and role:
        claims["roles"] = [role]
    return str(jwt.encode(claims, secret, algorithm="HS256"))


def scenario(
    contender: str,
    clients: int,
    args: argparse.Namespace,
    work: Path,
    env: dict[str, str],
    token: str,
    timeout: float,
) -> dict[str, Any]:
    db = work / f"{contender}-{clients}.sqlite3"
    for leftover in work.glob(f"{db.name}*"):
        leftover.unlink()
    env = {**env, "BANKING_DATABASE": str(db)}
    warmup = max(10, args.requests // 20)
    if contender == "inproc":
        out = subprocess.run(
            [
                PYTHON,
                str(Path(__file__).resolve()),
                "--inproc",
                str(clients),
                "--requests",
                str(args.requests),
                "--warmup",
                str(warmup),
                "--timeout",
                str(timeout),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout + 60,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"inproc failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    port = free_port()
    if contender == "graphql":
        command = [PYTHON, "-m", "banking", "serve", "--host", "127.0.0.1", "--port", str(port)]
        if args.no_dispatch:
            command.append("--no-dispatch")
    else:
        command = [PYTHON, str(Path(__file__).resolve()), "--serve-plain", str(port)]
        if args.no_dispatch:
            command.append("--no-dispatch")
    server = Server(command, port, env, work / f"{contender}-{clients}.log")
    try:
        server.wait_ready()
        return asyncio.run(
            http_load(
                contender,
                port,
                token,
                clients,
                args.requests,
                warmup,
                timeout,
                server,
                args.client,
                db,
                not args.no_dispatch,
            )
        )
    finally:
        server.stop()


def failed(requests: int, why: str) -> dict[str, Any]:
    """The result of a scenario that did not run: every request an error."""
    result = summarize([], 0.0, requests, [why], True)
    for key in ("server_cpu_us", "client_cpu_us", "with_flows_cpu_us", "backlog", "drain_s"):
        result[key] = None
    return result


def print_table(results: dict[str, dict[str, dict[str, Any]]], clients: list[int]) -> None:
    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    print(
        f"\n{'':18s} {'':>7s} {'':>7s} {'':>7s} {'':>6s}  {'server CPU us/req':^17s} "
        f"{'':>7s} {'client':>7s}\n"
        f"{'contender':10s} {'clients':>7s} {'req/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} "
        f"{'errors':>6s}  {'timed':>8s} {'+flows':>8s} {'backlog':>7s} {'CPU us':>7s}"
    )
    for contender in CONTENDERS:
        for c in clients:
            r = results[contender].get(str(c))
            if r is None:
                continue
            print(
                f"{contender:10s} {c:7d} {r['per_second']:7.0f} {r['p50_ms']:7.2f} "
                f"{r['p99_ms']:7.2f} {r['errors']:6d}  {shown(r['server_cpu_us']):>8s} "
                f"{shown(r['with_flows_cpu_us']):>8s} {shown(r['backlog']):>7s} "
                f"{shown(r['client_cpu_us']):>7s}"
            )
    print(
        "server CPU us/req: timed = the server process (all threads) while the requests ran; "
        "+flows = until\nthe dispatcher had run every flow. backlog = deliveries pending at the "
        "last answer. inproc: the\ncalling process, no flows."
    )


def ratios(results: dict[str, dict[str, dict[str, Any]]], clients: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in clients:
        g, s = results["graphql"].get(str(c)), results["starlette"].get(str(c))
        if g and s and s["per_second"] and g["server_cpu_us"] and s["server_cpu_us"]:
            out[str(c)] = {
                "throughput graphql/starlette": g["per_second"] / s["per_second"],
                "server CPU per request graphql/starlette": g["server_cpu_us"] / s["server_cpu_us"],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="200 requests per scenario, a smoke run"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="timed requests per scenario (default 2000; --quick 200)",
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="hard time limit of one scenario in seconds (default 60; --quick 20)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="hard time limit of the whole run in seconds (default 300; --quick 90): "
        "scenarios not started by then are skipped and count as errors",
    )
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="HTTP client: a minimal asyncio one (default) or httpx.AsyncClient",
    )
    parser.add_argument(
        "--no-dispatch",
        action="store_true",
        help="servers only store commands (no dispatcher thread running flows)",
    )
    parser.add_argument("--json", default=str(ROOT / "bench/results/api-load.json"))
    # internal: one contender in this process
    parser.add_argument("--inproc", type=int, metavar="CLIENTS", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--serve-plain", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.requests = args.requests or (200 if args.quick else 2000)
    args.timeout = args.timeout or (20.0 if args.quick else 60.0)
    args.budget = args.budget or (90.0 if args.quick else 300.0)
    if args.inproc:
        print(json.dumps(inproc(args.inproc, args.requests, args.warmup, args.timeout)))
        return
    if args.serve_plain:
        serve_plain(args.serve_plain, dispatch=not args.no_dispatch)
        return

    started = time.perf_counter()
    skip_missing_sniffio()  # for --client httpx, and the /healthz probes
    report: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "requests": args.requests,
            "warmup": max(10, args.requests // 20),
            "clients": args.clients,
            "timeout_s": args.timeout,
            "budget_s": args.budget,
            "client": args.client,
            "dispatch": not args.no_dispatch,
            "quick": args.quick,
            "command": COMMAND,
            "workers": 1,
        },
        "load_average_before": os.getloadavg(),
    }
    if os.getloadavg()[0] > 0.5:
        print(
            f"note: the machine is busy (load average {os.getloadavg()[0]:.2f}): "
            "expect noisy numbers",
            file=sys.stderr,
        )
    results: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in CONTENDERS}
    secret = secrets.token_hex(20)  # 40 characters
    with tempfile.TemporaryDirectory(prefix="draftsman-api-load-") as tmp:
        work = Path(tmp)
        banking = work / "banking"
        build = subprocess.run(
            [
                PYTHON,
                "-m",
                "draftsman_gen",
                "build",
                str(ROOT / "examples/banking"),
                "--out",
                str(banking),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode != 0:
            raise SystemExit(f"building the banking example failed:\n{build.stderr}")
        path = os.pathsep.join(p for p in (str(banking), os.environ.get("PYTHONPATH", "")) if p)
        env = {
            **os.environ,
            "PYTHONPATH": path,
            "BANKING_API_KEYS": API_KEY,
            "BANKING_JWT_SECRET": secret,
            "BANKING_LOG_LEVEL": "WARNING",
        }
        token = bearer_token(secret, env)
        for i, clients in enumerate(args.clients):
            order = CONTENDERS[i % 3 :] + CONTENDERS[: i % 3]  # no contender always goes first
            for contender in order:
                left = args.budget - (time.perf_counter() - started)
                if left < 5:
                    r = failed(
                        args.requests, f"skipped: the time budget ({args.budget:.0f}s) is spent"
                    )
                else:
                    try:
                        r = scenario(
                            contender, clients, args, work, env, token, min(args.timeout, left)
                        )
                    except Exception as exc:  # noqa: BLE001 - reported; the other scenarios run
                        r = failed(args.requests, f"{type(exc).__name__}: {exc}")
                results[contender][str(clients)] = r
                print(
                    f"  {contender:10s} {clients:3d} clients: {r['per_second']:7.0f} req/s, "
                    f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, {r['errors']} errors",
                    flush=True,
                )
                for sample in r["error_samples"]:
                    print(f"    error: {sample}")
    print_table(results, args.clients)
    report["results"] = results
    report["ratios"] = ratios(results, args.clients)
    top = str(max(args.clients))
    headline = report["ratios"].get(top, {}).get("throughput graphql/starlette")
    report["headline"] = {
        "clients": int(top),
        "graphql/starlette throughput": headline,
        "target": TARGET,
        "meets_target": headline is not None and headline >= TARGET,
    }
    print()
    for c, r in report["ratios"].items():
        print(
            f"graphql/starlette at {c:>2s} clients: throughput {r['throughput graphql/starlette']:.2f}x, "
            f"server CPU per request {r['server CPU per request graphql/starlette']:.2f}x"
        )
    if headline is not None:
        verdict = "meets" if headline >= TARGET else "MISSES"
        print(
            f"headline: GraphQL/starlette throughput at {top} clients = {headline:.2f}x "
            f"({verdict} the target of >= {TARGET})"
        )
    errors = sum(r["errors"] for by in results.values() for r in by.values())
    report["errors"] = errors
    report["load_average_after"] = os.getloadavg()
    report["wall_seconds"] = time.perf_counter() - started
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out} ({report['wall_seconds']:.0f}s)")
    if errors:
        print(f"{errors} error(s): see above", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
