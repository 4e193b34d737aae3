"""The generated SQLite store passes the store conformance suite, in memory and on disk."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from store_conformance import StoreConformance


@pytest.fixture(autouse=True)
def _bind(request: pytest.FixtureRequest, generated: Path, tmp_path: Path) -> None:
    if request.instance is None:
        return
    request.instance.store_module = importlib.import_module("banking.store")
    request.instance.tmp_path = tmp_path


class TestSQLiteMemoryStore(StoreConformance):
    store_module: ModuleType

    def make_store(self) -> Any:
        return self.store_module.SQLiteEventStore(":memory:")


class TestSQLiteFileStore(StoreConformance):
    store_module: ModuleType
    tmp_path: Path

    def make_store(self) -> Any:
        return self.store_module.SQLiteEventStore(str(self.tmp_path / "events.sqlite3"),
                                                  synchronous="FULL")


def test_bad_synchronous_setting_is_refused(generated: Path) -> None:
    store = importlib.import_module("banking.store")
    with pytest.raises(ValueError, match="BANKING_SYNCHRONOUS"):
        store.SQLiteEventStore(":memory:", synchronous="SOMETIMES")


def test_database_path_from_environment(generated: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = importlib.import_module("banking.store")
    monkeypatch.setenv("BANKING_DATABASE", str(tmp_path / "env.sqlite3"))
    s = store.SQLiteEventStore()
    s.close()
    assert (tmp_path / "env.sqlite3").exists()
    mode = __import__("sqlite3").connect(tmp_path / "env.sqlite3").execute("PRAGMA journal_mode")
    assert mode.fetchone()[0] == "wal"
