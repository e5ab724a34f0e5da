"""Cross-replica wake-ups over PostgreSQL LISTEN/NOTIFY.

Why: a worker long-polls one replica and a job is submitted on another; the in-process notifier of the
first never hears of it. Every replica LISTENs on two channels of its schema and NOTIFYs them after each
commit that makes a job claimable (`q`) or finishes one (`j`, payload: the job ids), so a job submitted on
A reaches a worker waiting on B within one round trip instead of one poll interval.

NOTIFY is best-effort (a notification sent while a replica is reconnecting is gone), so the notifier keeps
a short safety poll behind it (kitgate.controller.notify.Notifier.poll_s); everything here only makes
wake-ups fast, never makes them correct.

Two connections per replica, both opened here and outside the store's pool:
- the listener: one long-lived session (autocommit) that holds the LISTEN. It must be a direct session:
  through PgBouncer in transaction or statement pooling the LISTEN lands on a server connection that is
  handed to someone else, and notifications never arrive. Point it at PostgreSQL itself (or at a
  session-pooling PgBouncer database).
- the sender: a small autocommit connection used only for `pg_notify`. Calls from the service are
  synchronous and coalesced: all the calls made before the event loop gets to run the sender become one
  statement (one NOTIFY per channel, job ids batched into payloads of under 8000 bytes). A session found
  dead (PostgreSQL restarted) is replaced once for the same send; a send that still fails is logged and
  dropped, never raised into the caller; the safety poll covers it.

Channel names are derived from the schema (current_schema() unless given), so two deployments or two test
runs sharing one database never hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import re
import secrets
from collections.abc import Callable

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

log = logging.getLogger("kitgate.controller.pg.listen")

MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses a payload of 8000 bytes or more
MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer identifiers are truncated (LISTEN) or refused (pg_notify)
_PLAIN_SCHEMA = re.compile(r"[a-z0-9_]+")
_CONNECT_DEFAULTS = {"connect_timeout": "5", "application_name": "kitgate-wakeups"}


def channel_names(schema: str) -> tuple[str, str]:
    """(queue channel, job channel) for `schema`. A plain lowercase schema name is kept readable
    (kitgate_<schema>_q); any other, or one that would not fit in an identifier, is hashed (kitgateh_<hex>_q).
    The two forms differ in their 8th character, so a readable name never equals a hashed one."""
    if _PLAIN_SCHEMA.fullmatch(schema) and len(f"kitgate_{schema}_q") <= MAX_IDENTIFIER_BYTES:
        base = f"kitgate_{schema}"
    else:
        base = "kitgateh_" + hashlib.sha256(schema.encode()).hexdigest()[:32]
    return f"{base}_q", f"{base}_j"


def job_payloads(sender: str, job_ids: list[str]) -> list[str]:
    """`sender id1 id2 …` strings of at most MAX_PAYLOAD_BYTES each; ids with whitespace (never ours) or too
    long to fit are dropped with a log line, never sent half."""
    payloads: list[str] = []
    current = sender
    for job_id in job_ids:
        if not job_id or any(c.isspace() for c in job_id) or len(sender) + 1 + len(job_id.encode()) > MAX_PAYLOAD_BYTES:
            log.warning("job id not sent as a wake-up", extra={"fields": {"job_id_len": len(job_id)}})
            continue
        if len(current.encode()) + 1 + len(job_id.encode()) > MAX_PAYLOAD_BYTES:
            payloads.append(current)
            current = sender
        current += " " + job_id
    if current != sender:
        payloads.append(current)
    return payloads


class PgWakeups:
    """backend.Wakeups on LISTEN/NOTIFY. `queue_changed`/`job_finished` are called after commit, from the
    event loop (or from another thread: they are marshalled onto the loop); `run` listens until cancelled."""

    def __init__(self, conninfo: str, schema: str | None = None, *, probe_s: float = 10.0,
                 backoff_min_s: float = 0.1, backoff_max_s: float = 5.0) -> None:
        parsed = conninfo_to_dict(conninfo)
        self._conninfo = make_conninfo(conninfo, **{k: v for k, v in _CONNECT_DEFAULTS.items() if k not in parsed})
        self._schema = schema
        self._channels: tuple[str, str] | None = channel_names(schema) if schema is not None else None
        self.sender_id = secrets.token_hex(8)  # our own notifications come back to us: skip them
        self.probe_s = probe_s  # idle this long: check that the listener's connection still answers
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.listening = asyncio.Event()  # set while the LISTEN is in place (tests and /readyz may look)
        self.listener_pid: int | None = None  # backend pid of the listener's session, while connected
        self.reconnects = 0
        self.sent = 0  # NOTIFY statements sent (each carries every channel that had news)
        self.send_failures = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending_queue = False
        self._pending_jobs: dict[str, None] = {}  # insertion-ordered set
        self._sender_task: asyncio.Task[None] | None = None
        self._send_conn: AsyncConnection[TupleRow] | None = None

    # ---- sending -----------------------------------------------------------------------------
    def queue_changed(self) -> None:
        self._submit(True, None)

    def job_finished(self, job_id: str) -> None:
        self._submit(False, job_id)

    def _submit(self, queue: bool, job_id: str | None) -> None:
        """Record the news and make sure a sender will run; never raises into the caller."""
        try:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # another thread: do it on the loop we know
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._submit, queue, job_id)
                else:
                    log.debug("wake-up dropped: no event loop yet")
                return
            self._loop = loop
            if queue:
                self._pending_queue = True
            if job_id is not None:
                self._pending_jobs[job_id] = None
            if self._sender_task is None or self._sender_task.done():
                self._sender_task = loop.create_task(self._send_pending(), name="kitgate-notify-sender")
        except Exception:  # noqa: BLE001 - a wake-up must never fail the request that committed
            log.exception("wake-up not scheduled")

    async def _send_pending(self) -> None:
        """Send what accumulated, again while more arrives during the send (that is the coalescing)."""
        while self._pending_queue or self._pending_jobs:
            queue, jobs = self._pending_queue, list(self._pending_jobs)
            self._pending_queue = False
            self._pending_jobs.clear()
            try:
                await self._send(queue, jobs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - best effort: the safety poll covers a lost wake-up
                self.send_failures += 1
                log.warning("wake-up NOTIFY failed (dropped; the safety poll covers it)",
                            extra={"fields": {"error": type(exc).__name__}})
                await self._close_sender()

    async def _send(self, queue: bool, jobs: list[str]) -> None:
        conn = self._send_conn
        if conn is not None and not conn.closed:
            try:
                await self._notify(conn, queue, jobs)
                return
            except psycopg.OperationalError:  # a session left over from before a restart: one fresh try
                await self._close_sender()
        conn = self._send_conn = await AsyncConnection.connect(self._conninfo, autocommit=True)
        await self._notify(conn, queue, jobs)

    async def _notify(self, conn: AsyncConnection[TupleRow], queue: bool, jobs: list[str]) -> None:
        q_channel, j_channel = await self._channel_names(conn)
        args: list[str] = []
        if queue:
            args += [q_channel, self.sender_id]
        for payload in job_payloads(self.sender_id, jobs):
            args += [j_channel, payload]
        if not args:
            return
        calls = sql.SQL(", ").join([sql.SQL("pg_notify(%s, %s)")] * (len(args) // 2))
        await conn.execute(sql.SQL("SELECT {}").format(calls), args)
        self.sent += 1

    async def flush(self) -> None:
        """Wait until everything submitted so far was sent (or dropped). For tests and orderly shutdown."""
        while self._sender_task is not None and not self._sender_task.done():
            await asyncio.shield(self._sender_task)

    @property
    def sender_pid(self) -> int | None:
        """Backend pid of the sender's session, while it is open."""
        conn = self._send_conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    async def _close_sender(self) -> None:
        conn, self._send_conn = self._send_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def aclose(self) -> None:
        """Stop sending and close the sender's connection (the listener closes when `run` is cancelled)."""
        task, self._sender_task = self._sender_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self._close_sender()

    async def _channel_names(self, conn: AsyncConnection[TupleRow]) -> tuple[str, str]:
        if self._channels is None:
            row = await (await conn.execute("SELECT COALESCE(current_schema(), 'public')")).fetchone()
            self._schema = str(row[0]) if row else "public"
            self._channels = channel_names(self._schema)
        return self._channels

    # ---- listening ---------------------------------------------------------------------------
    async def run(self, on_queue: Callable[[], None], on_job: Callable[[str], None]) -> None:
        """LISTEN until cancelled. A lost connection (PostgreSQL restarted, the session killed, the network
        gone quiet past `probe_s`) is reopened with backoff, and `on_queue` is called once after each reopen:
        a notification sent meanwhile is gone, so waiting claimers look again."""
        self._loop = asyncio.get_running_loop()
        delay = self.backoff_min_s
        connected_once = False
        try:
            while True:
                try:
                    conn = await AsyncConnection.connect(self._conninfo, autocommit=True)
                except (psycopg.Error, OSError) as exc:
                    log.warning("wake-up listener cannot connect; retrying",
                                extra={"fields": {"error": type(exc).__name__, "retry_s": round(delay, 2)}})
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto
                    delay = min(delay * 2, self.backoff_max_s)
                    continue
                try:
                    for channel in await self._channel_names(conn):
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listener_pid = conn.info.backend_pid
                    self.listening.set()
                    delay = self.backoff_min_s
                    if connected_once:
                        self.reconnects += 1
                        log.info("wake-up listener reconnected")
                        _call(on_queue)
                    connected_once = True
                    await self._consume(conn, on_queue, on_job)
                except (psycopg.Error, OSError, TimeoutError) as exc:
                    log.warning("wake-up listener lost its connection; reconnecting",
                                extra={"fields": {"error": type(exc).__name__}})
                except Exception:  # noqa: BLE001 - the listener must outlive any surprise; it only speeds things up
                    log.exception("wake-up listener failed; reconnecting")
                finally:
                    self.listening.clear()
                    self.listener_pid = None
                    with contextlib.suppress(Exception):
                        await conn.close()
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
                delay = min(delay * 2, self.backoff_max_s)
        finally:
            await self.aclose()

    async def _consume(self, conn: AsyncConnection[TupleRow], on_queue: Callable[[], None],
                       on_job: Callable[[str], None]) -> None:
        q_channel, j_channel = await self._channel_names(conn)
        while True:
            async for note in conn.notifies(timeout=self.probe_s):
                sender, _, rest = note.payload.partition(" ")
                if sender == self.sender_id:
                    continue  # ours: the local notifier already fired
                if note.channel == q_channel:
                    _call(on_queue)
                elif note.channel == j_channel:
                    for job_id in rest.split():
                        _call(on_job, job_id)
            # quiet for probe_s: make sure the session is still there (a silent network would hang forever)
            await asyncio.wait_for(conn.execute("SELECT 1"), timeout=self.probe_s)


def _call(fn: Callable[..., None], *args: str) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - one bad callback must not stop the listener
        log.exception("wake-up callback failed")
