"""PostgreSQL as the shared system of record: a psycopg 3 async pool, units of work and advisory-lock leaders.

Why a unit is "one pooled connection in one transaction held in a contextvar": the service awaits several
stores (the job, its picture, its audit row) for one request, and they must commit together. Each request
runs in its own asyncio task with its own context, so the connection a unit holds is never shared with
another request; store methods called inside it find it there and join, and callbacks queued with
`after_commit` (wake-ups, NOTIFY) run only once COMMIT has returned.

Why the pool is checked and short-fused: a database restart breaks every pooled connection; the pool's
check replaces a dead one before it is handed out, so a replica recovers without restarting itself, and
a database that does not answer fails a request in seconds, not after the OS's TCP timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from kitgate.controller.backend import EngineKind, SchemaMismatch, SchemaStatus
from kitgate.controller.pg import migrate
from kitgate.controller.pg.apikeys import PgApiKeyStore
from kitgate.controller.pg.audit import PgAuditLog
from kitgate.controller.pg.images import PgImageStore
from kitgate.controller.pg.jobs import PgJobStore
from kitgate.controller.pg.listen import PgWakeups
from kitgate.controller.pg.tokens import PgTokenStore

if TYPE_CHECKING:
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.settings import Settings

log = logging.getLogger("kitgate.pg")

CONNECT_TIMEOUT_S = 5  # libpq connect_timeout: a database that does not answer fails fast
POOL_WAIT_S = 15.0  # how long a request waits for a pooled connection (e.g. while the database restarts)
PING_WAIT_S = 2.0
Connection = psycopg.AsyncConnection[DictRow]


@dataclass
class _Unit:
    conn: Connection
    after: list[Callable[[], None]] = field(default_factory=list)
    open: bool = True  # a task created inside a unit copies its context: after the unit, it must not join


def schema_mismatch_line(current: int, expected: int) -> str:
    """The one line a replica (or a CLI command) says when the database is not at this code's schema."""
    if current < expected:
        return f"database schema is at version {current}, this kitgate needs {expected}: run `kitgate db migrate`"
    return f"database schema is newer than this kitgate ({current} > {expected}): upgrade kitgate"


class PgBackend:
    """backend.Backend on PostgreSQL (KITGATE_DATABASE_URL). `start()` before use, `close()` after."""

    kind: EngineKind = "postgres"

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        if not settings.database_url:
            raise ValueError("PgBackend needs settings.database_url (KITGATE_DATABASE_URL=postgresql://…)")
        self.settings = settings
        self._conninfo = settings.database_url
        self._pool: AsyncConnectionPool[Connection] | None = None
        # one contextvar per backend: two backends in one process (tests' "replicas") never share a unit
        self._unit: ContextVar[_Unit | None] = ContextVar(f"kitgate_pg_unit_{id(self):x}", default=None)
        self.jobs = PgJobStore(self, clock=clock, max_value_depth=settings.max_json_depth)
        self.images = PgImageStore(self, clock=clock)
        self.audit = PgAuditLog(self)  # its sequencer loop starts in start()
        self.wakeups: PgWakeups = PgWakeups(self._conninfo)  # the service runs its listener (`run`)

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Check the schema, then open the pool: SchemaMismatch (one line) unless it is this code's version.

        The check runs on a connection of its own first, so a database that does not answer fails with
        libpq's own reason (refused, unknown host, authentication) rather than a pool timeout."""
        if self._pool is not None:
            return
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True,
                                                         connect_timeout=CONNECT_TIMEOUT_S) as conn:
            current, expected = await migrate.status(conn)
        if current != expected:
            raise SchemaMismatch(schema_mismatch_line(current, expected))
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self.settings.database_pool_max,
            open=False,
            name="kitgate",
            timeout=POOL_WAIT_S,
            check=AsyncConnectionPool.check_connection,  # a dead connection is replaced before it is handed out
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S,
                    "application_name": "kitgate"},
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        try:
            await self.audit.start()  # a keys dir without the audit key fails here, at start-up
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is None:
            return
        try:
            await self.audit.close()  # its sequencer stops before the pool it uses
            await self.wakeups.aclose()
        finally:
            pool, self._pool = self._pool, None
            await pool.close()

    # ---- connections -------------------------------------------------------------------------
    @property
    def pool(self) -> AsyncConnectionPool[Connection]:
        if self._pool is None:
            raise RuntimeError("PgBackend.start() has not run (or close() has)")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """For reads: the current unit's connection, else a pooled one in autocommit (one statement each)."""
        unit = self._current()
        if unit is not None:
            yield unit.conn
            return
        async with self.pool.connection() as conn:
            yield conn

    async def fetchone(self, sql: str | bytes, args: Sequence[object] = ()) -> DictRow | None:
        """One row of a read, on the current unit's connection or a pooled one (see `connection`)."""
        async with self.connection() as conn:
            cur = await conn.execute(sql, tuple(args))
            return await cur.fetchone()

    async def fetchall(self, sql: str | bytes, args: Sequence[object] = ()) -> list[DictRow]:
        """Every row of a read, on the current unit's connection or a pooled one (see `connection`)."""
        async with self.connection() as conn:
            cur = await conn.execute(sql, tuple(args))
            return await cur.fetchall()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """For writes: the current unit's transaction (joined), else a short one of its own."""
        unit = self._current()
        if unit is not None:
            yield unit.conn
            return
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """ONE transaction for everything awaited inside; nested units join; after_commit runs after COMMIT."""
        if self._current() is not None:
            yield
            return
        async with self.pool.connection() as conn:
            unit = _Unit(conn)
            token = self._unit.set(unit)
            try:
                async with conn.transaction():
                    yield
            finally:
                unit.open = False
                self._unit.reset(token)
        for fn in unit.after:
            try:
                fn()
            except Exception:  # the change is committed; a failed wake-up must not turn it into an error
                log.exception("after_commit callback failed")

    def _current(self) -> _Unit | None:
        unit = self._unit.get()
        return unit if unit is not None and unit.open else None

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the current unit has committed (now, outside a unit); never after a rollback."""
        unit = self._current()
        if unit is None:
            fn()
        else:
            unit.after.append(fn)

    # ---- health and coordination -------------------------------------------------------------
    async def ping(self) -> bool:
        """True when the database answers a read of the jobs table now; never raises."""
        if self._pool is None:
            return False
        try:
            async with self._pool.connection(timeout=PING_WAIT_S) as conn:
                await conn.execute("SELECT 1 FROM jobs LIMIT 1")
            return True
        except (psycopg.Error, PoolTimeout, OSError):
            return False

    async def schema_status(self) -> SchemaStatus:
        async with self.connection() as conn:
            current, expected = await migrate.status(conn)
        return SchemaStatus("postgres", current, expected)

    @asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        """True on the one replica holding the session advisory lock "<schema>:<name>" for this block.

        Never waits on the lock (pg_try_advisory_lock); held on a connection of its own for the block and
        released after. A database that cannot be reached yields False: this round is skipped."""
        try:
            conn = await self.pool.getconn(timeout=PING_WAIT_S)
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            log.warning("leader %s: no database connection (%s); skipping this round", name, type(exc).__name__)
            yield False
            return
        try:
            try:
                cur = await conn.execute(f"SELECT pg_try_advisory_lock({migrate.LOCK_KEY_SQL}) AS got",  # noqa: S608
                                         (f"leader:{name}",))
                row = await cur.fetchone()
                got = bool(row and row["got"])
            except psycopg.Error as exc:
                log.warning("leader %s: lock query failed (%s); skipping this round", name, type(exc).__name__)
                got = False
            try:
                yield got
            finally:
                if got and not conn.closed:
                    try:
                        await conn.execute(f"SELECT pg_advisory_unlock({migrate.LOCK_KEY_SQL})",  # noqa: S608
                                           (f"leader:{name}",))
                    except psycopg.Error:  # a broken connection released the lock with its session
                        log.warning("leader %s: unlock failed; the lock went with the connection", name)
        finally:
            await self.pool.putconn(conn)

    # ---- credentials ---------------------------------------------------------------------------
    def token_store(self, keys: KeyRing, issuer: str, audience: str) -> PgTokenStore:
        return PgTokenStore(self, keys, issuer, audience)

    def apikey_store(self) -> PgApiKeyStore:
        return PgApiKeyStore(self)
