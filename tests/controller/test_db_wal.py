"""The controller's SQLite WAL stays bounded: after a burst it shrinks back, and steady writes reuse it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import kitgate.controller.db as db_mod
from kitgate.controller.db import Database


def _wal(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "k.sqlite3")
    db.migrate("t", ["CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB)"])
    return db


def test_wal_shrinks_back_after_a_burst_that_a_reader_held_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 512 * 1024
    monkeypatch.setattr(db_mod, "WAL_SIZE_LIMIT", limit)
    db = _db(tmp_path)
    reader = sqlite3.connect(db.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM t").fetchone()  # an old snapshot: no checkpoint can get past it
    blob = os.urandom(4096)
    for _ in range(600):  # ~2.5 MB of pages
        with db.write() as conn:
            conn.execute("INSERT INTO t(blob) VALUES(?)", (blob,))
    burst = _wal(db.path)
    assert burst > 4 * limit  # the burst really grew the WAL
    reader.execute("COMMIT")
    reader.close()
    for _ in range(20):  # the next commits checkpoint the WAL and restart it from the top
        with db.write() as conn:
            conn.execute("UPDATE t SET blob=? WHERE id=1", (os.urandom(4096),))  # new bytes: a real write
    assert _wal(db.path) <= db_mod.WAL_AUTOCHECKPOINT_PAGES * 4096 + limit
    assert _wal(db.path) < burst / 2
    db.close()


def test_wal_does_not_grow_with_the_number_of_transactions(tmp_path: Path) -> None:
    db = _db(tmp_path)
    sizes = []
    for round_ in range(4):
        for i in range(1500):  # one small transaction per "job"
            with db.write() as conn:
                conn.execute("INSERT INTO t(blob) VALUES(?)", (f"{round_}-{i}".encode() * 20,))
        sizes.append(_wal(db.path))
    # bounded by the checkpoint interval (plus one transaction), whatever the number of transactions
    assert max(sizes) <= (db_mod.WAL_AUTOCHECKPOINT_PAGES + 16) * 4096
    db.close()


def test_connection_applies_the_wal_pragmas(tmp_path: Path) -> None:
    db = _db(tmp_path)
    conn = db.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA journal_size_limit").fetchone()[0] == db_mod.WAL_SIZE_LIMIT
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == db_mod.WAL_AUTOCHECKPOINT_PAGES
    db.close()
