"""Fixtures of the runtime's own tests: the hand-written toy model, a clock, services."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the toy package

from postgres_cluster import Cluster, find_bindir, running_cluster
from toy import model
from toy.registry import REGISTRY

from draftsman_runtime import Service, Settings, SQLiteEventStore
from draftsman_runtime.service import open_store

START = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_service(path: str = ":memory:", clock: Clock | None = None, **settings: object) -> Service:
    store = SQLiteEventStore(path)
    return Service(
        REGISTRY, store, clock=clock or Clock(), settings=Settings(database=path, **settings)
    )  # type: ignore[arg-type]


def open_service(database: str, clock: Clock) -> Service:
    """The toy service on the store `database` names (a SQLite path or a PostgreSQL URL)."""
    settings = Settings(database=database)
    return Service(REGISTRY, open_store(settings), clock=clock, settings=settings)


@pytest.fixture(params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Service]:
    """The toy service on an in-memory SQLite store, and on a PostgreSQL schema of its own:
    every test that takes it holds for both backends."""
    if request.param == "sqlite":
        svc = make_service(clock=clock)
    else:
        from draftsman_runtime.postgres import PostgresEventStore

        cluster: Cluster = request.getfixturevalue("pg")
        store = PostgresEventStore(cluster.url(), schema=f"t_{uuid.uuid4().hex[:12]}")
        svc = Service(REGISTRY, store, clock=clock, settings=Settings(database=cluster.url()))
    yield svc
    svc.close()


@pytest.fixture(autouse=True)
def _healthy_tally() -> Iterator[None]:
    model.BROKEN.clear()
    yield
    model.BROKEN.clear()


# -- PostgreSQL: one throwaway cluster per test process -------------------------------------
PASSWORD = "tr0ub4dor-&-3"  # alice's; must never appear in a message


def _unavailable(reason: str) -> None:
    if os.environ.get("DRAFTSMAN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}, and DRAFTSMAN_REQUIRE_POSTGRES=1")
    pytest.skip(f"{reason}; set DRAFTSMAN_REQUIRE_POSTGRES=1 to fail instead")


@pytest.fixture(scope="session")
def driver() -> None:
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")


@pytest.fixture(scope="session")
def pg(driver: None) -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql)")
        raise AssertionError("unreachable")
    with running_cluster(bindir) as cluster:
        import psycopg

        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE alice LOGIN PASSWORD '{PASSWORD}'")
            admin.execute("CREATE DATABASE alice OWNER alice")
        yield cluster


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each backend: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    import psycopg

    cluster: Cluster = request.getfixturevalue("pg")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return cluster.url(dbname=name)


def toy_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess running `python -m toy`."""
    return {**os.environ, "PYTHONPATH": str(HERE), **extra}
