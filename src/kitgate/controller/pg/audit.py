"""The hash-chained audit trail on PostgreSQL: concurrent writers, one chain, a signed head.

Why not the SQLite way: SQLite's AuditLog reads the last (seq, hash) and appends the next record inside the
writer's transaction; SQLite's single write lock is what keeps two writers from reading the same head. On
PostgreSQL two replicas (or two units on one replica) would both read head N and both write N+1: the chain
forks (measured before this module). Taking one lock for every append instead would serialise every job of
every replica behind whichever unit wrote an audit row first and has not committed yet.

So writing and chaining are split:
- `record` INSERTs the row in the caller's unit of work (the same commit as the state change it describes)
  with seq, prev_hash and hash still NULL. It takes no lock and reads nothing: writers never wait on each
  other, and a rolled-back change leaves no audit row behind.
- One sequencer per deployment chains rows once they are committed. Every replica runs the loop (`start`);
  each round takes `pg_try_advisory_xact_lock` on a key derived from current_schema(), so one replica at a
  time chains and the others skip the round. It reads the committed, unchained rows in write order (id),
  gives them seq = last + 1, …, hashes them exactly like security/audit.py's `record_digest` (so a chain has the
  same format on both engines), and in the SAME transaction writes a checkpoint: the new head (seq, hash,
  ts) signed with the keys dir's Ed25519 "audit" key. `audit.seq` is UNIQUE, so even a sequencer that ran
  without the lock could not fork the chain: its commit would fail. Wake-ups coalesce (at most one round
  per `min_round_s`; a backlog drains in batches at once), and the newest checkpoint row moves forward in
  place, a new row starting once it is `checkpoint_history_s` old: a signed head a minute is kept, not a
  row per round.
- The head anchor is that signed checkpoint, not a file on one replica's disk. The keys live outside the
  database (KITGATE_KEYS_DIR), so someone who can rewrite the database can cut or rewrite the chain but cannot
  sign a checkpoint that agrees with it. `verify_chain` walks seq 1..N (gaps, links, hashes), then checks the
  newest checkpoint's signature and that the chain holds its seq with its hash: a shorter chain means
  records were cut off, another hash means history was rewritten. What remains undetectable from the
  database alone (the newest checkpoints deleted together with the records they cover) is what
  `--expect-head SEQ:HASH`, kept elsewhere, is for, as on SQLite.

Readers see chained rows only, except `for_job`, which also lists a job's rows still waiting to be chained
(seq None), so the console shows a record written a moment ago. A chain normally trails the commits by one
wake-up (after_commit) and never by more than the tick (1 s) while any replica runs; rows left unchained
for a minute mean no sequencer runs, and `verify_chain` says so.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidSignature
from psycopg.rows import tuple_row

from kitgate.controller.pg.migrate import LOCK_KEY_SQL
from kitgate.controller.security.audit import GENESIS, ChainReport, encode_fields, query_filters, record_digest
from kitgate.controller.security.keys import KeyRing

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from kitgate.controller.settings import Settings

log = logging.getLogger("kitgate.audit")

KEY_PURPOSE = "audit"
# the sequencer's advisory lock: keyed by "<schema>:<name>" like every lock here (two deployments, or two
# tests, sharing one database never collide)
_LOCK_NAME = "audit-sequencer"
_COLUMNS = "seq, ts, event, actor, ip, request_id, data, hash"
# `ts` is hashed as repr(float): read it back bit-exact whatever the server's extra_float_digits says
_EXACT_FLOATS = "SET LOCAL extra_float_digits = 3"


class PgUnits(Protocol):
    """What the audit trail needs from PgBackend: the caller's unit of work, its after-commit hook, the pool."""

    settings: Settings

    @property
    def pool(self) -> AsyncConnectionPool[Any]: ...
    def connection(self) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
        """For reads: the current unit's connection, else a pooled one."""
    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
        """For writes: the current unit's transaction (joined), else a short one of its own."""
    def after_commit(self, fn: Callable[[], None]) -> None: ...


def checkpoint_text(seq: int, digest: str, ts: float) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return f"kitgate-audit-checkpoint v1 {seq} {digest} {ts!r}".encode()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: float
    kid: str
    signature: str  # base64url, no padding


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _row(r: tuple[Any, ...]) -> dict[str, Any]:
    seq, ts, event, actor, ip, request_id, data, digest = r
    out = {"seq": seq, "ts": ts, "event": event, "actor": actor, "ip": ip, "request_id": request_id,
           "data": json.loads(data), "hash": digest if digest is not None else ""}
    if seq is None:
        out["pending"] = True  # committed, not chained yet
    return out


class PgAuditLog:
    """AuditApi on PostgreSQL (migration 0002_audit.sql); `start` runs this replica's sequencer loop."""

    def __init__(self, backend: PgUnits, keys: KeyRing | None = None, *, clock: Callable[[], float] = time.time,
                 tick_s: float = 1.0, batch: int = 500, stale_after_s: float = 60.0,
                 checkpoint_history_s: float = 60.0, min_round_s: float = 0.1) -> None:
        self.backend = backend
        self._keys = keys
        self.clock = clock
        self.tick_s = tick_s
        self.batch = batch
        self.stale_after_s = stale_after_s
        self.checkpoint_history_s = checkpoint_history_s  # a new checkpoint row after this long, else in place
        self.min_round_s = min_round_s  # wake-ups coalesce: at most one round per this long (backlogs drain at once)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def keys(self) -> KeyRing:
        """The ring given, else the settings' keys dir read once, never written (replicas share it read-only;
        a dir without an "audit" key raises KeysMissing: `kitgate init` makes it)."""
        if self._keys is None:
            ring = KeyRing(self.backend.settings.keys_dir or self.backend.settings.data_dir / "keys")
            ring.load(create=False)
            self._keys = ring
        return self._keys

    # -- writing -----------------------------------------------------------------------------------------

    async def record(self, event: str, *, actor: str | None = None, ip: str | None = None,
                     request_id: str | None = None, **fields: Any) -> None:
        data = encode_fields(fields)
        job_id = fields.get("job_id")
        async with self.backend.transaction() as conn:
            await conn.execute(
                "INSERT INTO audit(ts, event, actor, ip, request_id, job_id, data) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                (self.clock(), event, actor, ip, request_id, job_id if isinstance(job_id, str) else None, data),
            )
        self.backend.after_commit(self._wake.set)

    # -- the sequencer -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run this replica's sequencer loop (PgBackend.start calls it; `close` stops it)."""
        _ = self.keys  # a keys dir without an audit key fails here, at start-up, not in the background
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="kitgate-audit-sequencer")

    async def close(self) -> None:
        """Stop the loop, then chain what is committed (a short-lived CLI command leaves nothing pending)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        try:
            await self._drain(retries=5)
        except Exception as exc:  # the database is gone: another replica (or the next start) chains the rows
            log.warning("audit sequencer final round failed: %s", type(exc).__name__)

    async def _run(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_s)
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # 3.11's wait_for drops a cancel that races a wake
                raise asyncio.CancelledError
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                await self._drain(retries=5 if woken else 0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down or restarting: the next tick tries again
                log.warning("audit sequencer round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.min_round_s)

    async def _drain(self, retries: int) -> None:
        """Chain until nothing is pending. Another replica holding the lock may have read its batch before
        our rows committed, so after a wake-up a missed lock is retried a few times before the next tick."""
        while True:
            chained = await self.sequence()
            if chained is None:
                if retries <= 0:
                    return
                retries -= 1
                await asyncio.sleep(0.05)
            elif chained < self.batch:
                return

    async def sequence(self, *, wait: bool = False) -> int | None:
        """One round: chain up to `batch` committed rows and sign the new head. Returns how many rows were
        chained, or None when another replica holds the sequencer lock (`wait=True` waits for it instead)."""
        signer = self.keys.active(KEY_PURPOSE)
        async with self.backend.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(_EXACT_FLOATS)
            if wait:
                await cur.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL})", (_LOCK_NAME,))
            else:
                await cur.execute(f"SELECT pg_try_advisory_xact_lock({LOCK_KEY_SQL})", (_LOCK_NAME,))
                got = await cur.fetchone()
                if not got or not got[0]:
                    return None
            await cur.execute("SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
            last = await cur.fetchone()
            seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
            await cur.execute(
                "SELECT id, ts, event, actor, ip, request_id, data FROM audit WHERE seq IS NULL ORDER BY id LIMIT %s",
                (self.batch,),
            )
            rows = await cur.fetchall()
            if not rows:
                return 0
            ids: list[int] = []
            seqs: list[int] = []
            prevs: list[str] = []
            hashes: list[str] = []
            for row_id, ts, event, actor, ip, request_id, data in rows:
                seq += 1
                digest = record_digest(prev, seq, ts, event, actor, ip, request_id, data)
                ids.append(row_id)
                seqs.append(seq)
                prevs.append(prev)
                hashes.append(digest)
                prev = digest
            await cur.execute(
                "UPDATE audit AS a SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, seq, prev_hash, hash) "
                "WHERE a.id = v.id",
                (ids, seqs, prevs, hashes),
            )
            now = self.clock()
            signature = _b64(signer.private.sign(checkpoint_text(seq, prev, now)))
            await cur.execute("SELECT id, opened_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            newest = await cur.fetchone()
            if newest is not None and now - float(newest[1]) < self.checkpoint_history_s:
                await cur.execute(  # move the newest checkpoint forward in place
                    "UPDATE audit_checkpoints SET seq = %s, hash = %s, ts = %s, kid = %s, signature = %s WHERE id = %s",
                    (seq, prev, now, signer.kid, signature, newest[0]),
                )
            else:
                await cur.execute(
                    "INSERT INTO audit_checkpoints(seq, hash, ts, kid, signature, opened_at) "
                    "VALUES (%s,%s,%s,%s,%s,%s)",
                    (seq, prev, now, signer.kid, signature, now),
                )
        return len(rows)

    async def flush(self) -> int:
        """Chain everything committed so far, waiting for the lock (tests, `kitgate audit` tools, shutdown)."""
        total = 0
        while True:
            chained = await self.sequence(wait=True) or 0
            total += chained
            if chained < self.batch:
                return total

    # -- reading -----------------------------------------------------------------------------------------

    async def head(self) -> dict[str, Any]:
        async with self.backend.connection() as conn:
            cur = await conn.cursor(row_factory=tuple_row).execute(
                "SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
            row = await cur.fetchone()
        return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}

    async def latest_checkpoint(self) -> Checkpoint | None:
        async with self.backend.connection() as conn:
            cur = await conn.cursor(row_factory=tuple_row).execute(
                "SELECT seq, hash, ts, kid, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            row = await cur.fetchone()
        return Checkpoint(*row) if row else None

    async def query(self, *, event: str | None = None, actor: str | None = None, request_id: str | None = None,
                    since_seq: int = 0, since_ts: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, args = query_filters(event=event, actor=actor, request_id=request_id, since_seq=since_seq,
                                    since_ts=since_ts, limit=limit, mark="%s")
        sql = f"SELECT {_COLUMNS} FROM audit {where}"  # noqa: S608 - constants and query_filters' text
        async with self.backend.connection() as conn:
            cur = await conn.cursor(row_factory=tuple_row).execute(sql, args)
            rows = await cur.fetchall()
        return [_row(r) for r in rows]

    async def for_job(self, job_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """The records that name one job, oldest first; rows not chained yet come last, with seq None."""
        async with self.backend.connection() as conn:
            cur = await conn.cursor(row_factory=tuple_row).execute(
                f"SELECT {_COLUMNS} FROM audit WHERE job_id = %s ORDER BY seq NULLS LAST, id LIMIT %s",  # noqa: S608
                (job_id, max(1, min(limit, 1000))),
            )
            rows = await cur.fetchall()
        return [_row(r) for r in rows]

    # -- verifying ---------------------------------------------------------------------------------------

    async def verify_chain(self, expect_head: tuple[int, str] | None = None) -> ChainReport:
        """Edited (hash), deleted (gap), reordered (link) records; cut off or rewritten against the signed
        checkpoint and `expect_head`; a forged checkpoint; rows nobody chained (no sequencer running)."""
        async with self.backend.pool.connection() as conn, conn.transaction():
            # one snapshot: the chain and the checkpoint as of the same moment (they commit together)
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            await conn.execute(_EXACT_FLOATS)
            cur = await conn.cursor(row_factory=tuple_row).execute(
                "SELECT seq, hash, ts, kid, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            found = await cur.fetchone()
            checkpoint = Checkpoint(*found) if found else None
            wanted = {h[0] for h in (expect_head,) if h is not None}
            if checkpoint is not None:
                wanted.add(checkpoint.seq)
            walk = await self._walk(conn, wanted)
            if isinstance(walk, ChainReport):
                return walk
            count, hashes = walk
            cur = await conn.cursor(row_factory=tuple_row).execute(
                "SELECT count(*) FROM audit WHERE seq IS NULL AND ts < %s", (self.clock() - self.stale_after_s,))
            stale_row = await cur.fetchone()
        stale = int(stale_row[0]) if stale_row else 0
        problem = self._check_checkpoint(checkpoint, count, hashes)
        if problem is not None:
            return problem
        if expect_head is not None:
            seq, digest = expect_head
            if seq > count:
                return ChainReport(False, count, count + 1,
                                   f"the expected head is at record {seq} but the chain ends at {count}: "
                                   "records were cut off")
            if seq and hashes.get(seq) != digest:
                return ChainReport(False, count, seq, f"record {seq} differs from the expected head: "
                                   "history was rewritten")
        if stale:
            return ChainReport(False, count, None,
                               f"{stale} records written more than {self.stale_after_s:g} s ago are not chained: "
                               "no audit sequencer is running (start a controller replica)")
        return ChainReport(True, count, None, None)

    async def _walk(self, conn: AsyncConnection[Any], wanted: set[int]) -> tuple[int, dict[int, str]] | ChainReport:
        prev = GENESIS
        count = 0
        hashes: dict[int, str] = {}
        async with conn.cursor(name="kitgate_audit_walk", row_factory=tuple_row) as cur:
            cur.itersize = 2000
            await cur.execute(
                "SELECT seq, ts, event, actor, ip, request_id, data, prev_hash, hash FROM audit "
                "WHERE seq IS NOT NULL ORDER BY seq")
            async for seq, ts, event, actor, ip, request_id, data, prev_hash, digest in cur:
                count += 1
                if seq != count:
                    return ChainReport(False, count, seq, f"record {count} is missing")
                if prev_hash != prev:
                    return ChainReport(False, count, seq, "link to the previous record is broken")
                if record_digest(prev, seq, ts, event, actor, ip, request_id, data) != digest:
                    return ChainReport(False, count, seq, "record content does not match its hash")
                if seq in wanted:
                    hashes[seq] = digest
                prev = digest
        return count, hashes

    def _check_checkpoint(self, checkpoint: Checkpoint | None, count: int,
                          hashes: dict[int, str]) -> ChainReport | None:
        if checkpoint is None:
            if count:
                return ChainReport(False, count, None, "the signed checkpoint is missing")
            return None
        key = self.keys.verifying_key(KEY_PURPOSE, checkpoint.kid)
        if key is None:
            return ChainReport(False, count, checkpoint.seq,
                               f"the checkpoint at record {checkpoint.seq} is signed by key {checkpoint.kid!r}, "
                               "which is not an audit key in the keys dir: it was forged")
        try:
            key.verify(_unb64(checkpoint.signature), checkpoint_text(checkpoint.seq, checkpoint.hash, checkpoint.ts))
        except (InvalidSignature, binascii.Error, ValueError):
            return ChainReport(False, count, checkpoint.seq,
                               f"the checkpoint at record {checkpoint.seq} has a bad signature: it was forged")
        if checkpoint.seq > count:
            return ChainReport(False, count, count + 1,
                               f"the signed checkpoint is at record {checkpoint.seq} but the chain ends at {count}: "
                               "records were cut off")
        if hashes.get(checkpoint.seq) != checkpoint.hash:
            return ChainReport(False, count, checkpoint.seq,
                               f"record {checkpoint.seq} differs from the signed checkpoint: history was rewritten")
        return None
