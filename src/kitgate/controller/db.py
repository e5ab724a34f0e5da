"""The embedded SQLite database: one WAL file under the data dir, shared by the job store, tokens and audit.

Why the WAL pragmas: SQLite checkpoints the WAL into the database every `WAL_AUTOCHECKPOINT_PAGES`
pages and then reuses the file from the start, but it never shrinks it. One burst of writes while a
reader holds an old snapshot (a checkpoint cannot finish past it) leaves a WAL file of that burst's
size for the life of the process. `journal_size_limit` truncates it back to `WAL_SIZE_LIMIT` at the
next reset, so the WAL stays bounded without a timer or a blocking TRUNCATE checkpoint.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

WAL_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default, stated: ~4 MB of 4 KiB pages between checkpoints
WAL_SIZE_LIMIT = 8 * 1024 * 1024  # bytes a reset WAL is truncated to


class Database:
    """A thread-local connection per thread; writes serialised by a lock so SQLite never says 'busy'.

    `write()` nests: an inner `write()` joins the outer transaction, so a state change and its audit
    record commit together in ONE transaction (one BEGIN/COMMIT per request instead of one per step).
    Work that must follow the commit (moving the audit anchor) goes through `after_commit()`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; commits on success, rolls back on any exception.

        Inside another `write()` on the same thread it joins that transaction: an exception rolls back
        the outer one when it leaves the outer block.
        """
        with self._write_lock:
            conn = self.connection()
            depth = getattr(self._local, "depth", 0)
            if depth:
                self._local.depth = depth + 1
                try:
                    yield conn
                finally:
                    self._local.depth = depth
                return
            self._local.after = []
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                self._local.depth = 0
                self._local.after = []
                conn.execute("ROLLBACK")
                raise
            self._local.depth = 0
            try:
                conn.execute("COMMIT")
            except BaseException:
                self._local.after = []
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            after, self._local.after = self._local.after, []
        for fn in after:
            fn()

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the current transaction has committed (now, when none is open on this thread)."""
        if getattr(self._local, "depth", 0):
            self._local.after.append(fn)
        else:
            fn()

    def migrate(self, component: str, statements: Sequence[str]) -> None:
        """Idempotent schema set-up per component (jobs, tokens, audit, ...)."""
        with self.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_components (name TEXT PRIMARY KEY, version INTEGER)")
            row = conn.execute("SELECT version FROM schema_components WHERE name=?", (component,)).fetchone()
            if row is not None and row[0] >= len(statements):
                return
            start = 0 if row is None else row[0]
            for stmt in statements[start:]:
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO schema_components(name, version) VALUES(?, ?) "
                "ON CONFLICT(name) DO UPDATE SET version=excluded.version",
                (component, len(statements)),
            )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
