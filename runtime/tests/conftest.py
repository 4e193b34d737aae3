"""Fixtures of the runtime's own tests: the hand-written toy model, a clock, services."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the toy package

from toy import model
from toy.registry import REGISTRY

from draftsman_runtime import Service, Settings, SQLiteEventStore

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


@pytest.fixture
def service(clock: Clock) -> Iterator[Service]:
    svc = make_service(clock=clock)
    yield svc
    svc.close()


@pytest.fixture(autouse=True)
def _healthy_tally() -> Iterator[None]:
    model.BROKEN.clear()
    yield
    model.BROKEN.clear()


def toy_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess running `python -m toy`."""
    return {**os.environ, "PYTHONPATH": str(HERE), **extra}
