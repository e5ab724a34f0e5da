"""The job queue on PostgreSQL: the SQLite JobStore's transitions, with every race closed in SQL.

Why not the SQLite code with another driver: SQLite's single write lock made each read-then-write atomic.
Several replicas on PostgreSQL have no such lock, so each transition says in SQL what it relies on:
- claim takes the oldest matching queued row with `FOR UPDATE SKIP LOCKED`: concurrent claimers never
  wait on each other and never take the same job;
- report and heartbeat lock the job row (`FOR UPDATE`) before checking the claim, so a double report is
  AlreadyReported and the sweeper's `lost` and a report never both win;
- cancel, approve and reject are conditional UPDATEs (`WHERE status = ANY(...)`): a claim that won wins;
- create is `INSERT … ON CONFLICT DO NOTHING RETURNING`: one idempotency key makes one job, never a 500;
- binding a worker id inserts the row first (`ON CONFLICT DO NOTHING`), then locks it.
The semantics, domain errors and return values are those of kitgate.controller.store.JobStore.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from kitgate.controller.domain_errors import (
    InvalidTransition,
    JobNotFound,
    WorkerIdTaken,
    WorkerNotFound,
)
from kitgate.controller.store import DEFAULT_VALUE_DEPTH, TERMINAL, JobRecord, NewJob, decode_result, plan_report

if TYPE_CHECKING:
    from kitgate.controller.backend import Signer
    from kitgate.controller.pg.backend import Connection, PgBackend

_COMPACT = (",", ":")
_RUNNING_STATES = frozenset({"running", "started", "executing"})
CLOCK_ROW = "sweeper"  # controller_clock: when a controller last swept (restart grace)


async def _any_credential_live(_credential: str) -> bool:
    return True


def _policy_args(policies: frozenset[str] | None) -> tuple[list[str] | None, list[str] | None]:
    """The arguments of the SQL condition "a policy this credential allows" (policies None: any):
    `(%s::text[] IS NULL OR policy = ANY(%s::text[]))`."""
    allowed = None if policies is None else sorted(policies)
    return allowed, allowed


class PgJobStore:
    """backend.JobStoreApi on PostgreSQL. Uses the backend's current unit when there is one."""

    def __init__(self, backend: PgBackend, clock: Callable[[], float] = time.time,
                 max_value_depth: int = DEFAULT_VALUE_DEPTH) -> None:
        self.backend = backend
        self.clock = clock
        self.max_value_depth = max_value_depth
        # the security layer answers once it has started; until then a binding is never taken over
        self.credential_live: Callable[[str], Awaitable[bool]] = _any_credential_live

    # ---- decoding ------------------------------------------------------------------------------
    def _record(self, row: dict[str, Any]) -> JobRecord:
        data = dict(row)
        data["labels"] = list(data["labels"])  # jsonb: already decoded
        data["limits"] = json.loads(data["limits"])
        data["result"] = decode_result(data["result"], data["status"], self.max_value_depth)
        return JobRecord(**data)

    async def _one(self, conn: Connection, sql: str, args: Iterable[object] = ()) -> dict[str, Any] | None:
        cur = await conn.execute(sql.encode(), tuple(args))
        return await cur.fetchone()

    # ---- reads ---------------------------------------------------------------------------------
    async def get(self, job_id: str) -> JobRecord | None:
        row = await self.backend.fetchone("SELECT * FROM jobs WHERE id=%s", (job_id,))
        return self._record(row) if row else None

    async def find_idempotent(self, owner: str, key: str) -> JobRecord | None:
        row = await self.backend.fetchone("SELECT * FROM jobs WHERE owner=%s AND idempotency_key=%s", (owner, key))
        return self._record(row) if row else None

    async def list(self, owner: str | None, limit: int, before_seq: int | None = None, status: str | None = None,
                   policy: str | None = None) -> list[JobRecord]:
        """Newest first; `before_seq` is the keyset cursor so pages stay stable while jobs arrive."""
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("owner=%s", owner), ("seq<%s", before_seq), ("status=%s", status),
                              ("policy=%s", policy)):
            if value is not None:
                clauses.append(column)
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT %s"  # noqa: S608 - clauses are constants
        rows = await self.backend.fetchall(sql, (*params, limit))
        return [self._record(r) for r in rows]

    async def last(self, owner: str | None) -> JobRecord | None:
        jobs = await self.list(owner, 1)
        return jobs[0] if jobs else None

    async def ping(self) -> bool:
        """Read the jobs table once: True when the database answers (psycopg.Error otherwise)."""
        async with self.backend.connection() as conn:
            await conn.execute("SELECT 1 FROM jobs LIMIT 1")
        return True

    async def counts(self) -> dict[str, int]:
        rows = await self.backend.fetchall("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

    async def workers(self) -> list[dict[str, Any]]:
        """Admin view; `credential` is the "<kind>:<id>" the worker id is bound to (ids, never secrets)."""
        rows = await self.backend.fetchall(
            "SELECT id, labels, stage, state, job_id, first_seen, last_seen, credential FROM workers"
            " ORDER BY last_seen DESC LIMIT 1000")
        return [{**r, "labels": list(r["labels"])} for r in rows]

    async def queue_position(self, job: JobRecord) -> int:
        """1 + the queued jobs (any owner) that a worker would look at before this one."""
        queued_at = job.queued_at or 0.0
        row = await self.backend.fetchone(
            "SELECT COUNT(*) AS n FROM jobs WHERE status='queued' AND (queued_at<%s OR (queued_at=%s AND seq<%s))",
            (queued_at, queued_at, job.seq))
        return int(row["n"] if row else 0) + 1

    async def live_workers(self, seen_within_s: float) -> list[dict[str, Any]]:
        """Workers seen in the last `seen_within_s` seconds that did not say they stopped."""
        rows = await self.backend.fetchall(
            "SELECT id, labels, stage FROM workers WHERE last_seen>=%s AND COALESCE(state, '')<>'stopped'",
            (self.clock() - seen_within_s,))
        return [{"id": r["id"], "labels": list(r["labels"]), "stage": r["stage"]} for r in rows]

    async def worker_stage(self, worker_id: str) -> str | None:
        row = await self.backend.fetchone("SELECT stage FROM workers WHERE id=%s", (worker_id,))
        return row["stage"] if row else None

    async def worker_credential(self, worker_id: str) -> str | None:
        """The "<kind>:<id>" credential `worker_id` is bound to (None: unknown or released); read-only."""
        row = await self.backend.fetchone("SELECT credential FROM workers WHERE id=%s", (worker_id,))
        return row["credential"] if row else None

    async def has_claimable(self, labels: Iterable[str], policies: frozenset[str] | None = None) -> bool:
        """A read-only look: is any queued job for these labels (and policies) waiting?"""
        sql = ("SELECT EXISTS(SELECT 1 FROM jobs WHERE status='queued' AND labels <@ %s"
               " AND (%s::text[] IS NULL OR policy = ANY(%s::text[]))) AS any")
        row = await self.backend.fetchone(sql, (Jsonb(sorted(set(labels))), *_policy_args(policies)))
        return bool(row and row["any"])

    async def count_awaiting_approval(self, labels: Iterable[str], policies: frozenset[str] | None,
                                      cap: int) -> int:
        """How many `pending_approval` jobs a worker with these labels (and policies) could claim once approved,
        counted up to `cap` (the same match as a claim: labels a subset of the worker's, policy allowed)."""
        sql = ("SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE status='pending_approval' AND labels <@ %s"
               " AND (%s::text[] IS NULL OR policy = ANY(%s::text[])) LIMIT %s) AS awaiting")
        row = await self.backend.fetchone(sql, (Jsonb(sorted(set(labels))), *_policy_args(policies), max(0, cap)))
        return int(row["n"] if row else 0)

    # ---- writes --------------------------------------------------------------------------------
    async def create(self, job: NewJob) -> tuple[JobRecord, bool]:
        """Insert a job; with an idempotency key already used by this owner, return that job instead.

        INSERT … ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit, then inserts
        nothing: the existing row is read back (a new statement, so it sees that commit)."""
        status = "pending_approval" if job.requires_approval else "queued"
        while True:
            now = self.clock()
            async with self.backend.transaction() as conn:
                row = await self._one(
                    conn,
                    "INSERT INTO jobs(id, owner, status, policy, policy_digest, code, code_sha256, labels,"
                    " idempotency_key, timeout_s, limits, max_retries, created_at, queued_at)"
                    " VALUES(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *",
                    ("j_" + secrets.token_hex(12), job.owner, status, job.policy, job.policy_digest, job.code,
                     job.code_sha256, Jsonb(job.labels), job.idempotency_key, job.timeout_s, json.dumps(job.limits),
                     job.max_retries, now, now if status == "queued" else None))
                if row is not None:
                    return self._record(row), True
                row = await self._one(conn, "SELECT * FROM jobs WHERE owner=%s AND idempotency_key=%s",
                                      (job.owner, job.idempotency_key))
                if row is not None:
                    return self._record(row), False
            # the conflicting job was deleted (retention) between the two statements: its key is free again

    async def claim(self, worker_id: str, labels: Iterable[str], sign: Signer, claimed_by: str | None = None,
                    policies: frozenset[str] | None = None,
                    stage: str | None = None) -> tuple[JobRecord, str] | None:
        """Hand the oldest queued job this worker may run (labels, policies) to it, in one transaction."""
        have = sorted(set(labels))
        now = self.clock()
        async with self.backend.transaction() as conn:
            row = await self._one(
                conn,
                "SELECT * FROM jobs WHERE status='queued' AND labels <@ %s"
                " AND (%s::text[] IS NULL OR policy = ANY(%s::text[]))"
                " ORDER BY queued_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED",
                (Jsonb(have), *_policy_args(policies)))
            chosen = self._record(row) if row is not None else None
            await self._touch_worker(conn, worker_id, have, stage, "claiming" if chosen is None else "running", now,
                                     job_id=None if chosen is None else chosen.id)
            if chosen is None:
                return None
            attempt = chosen.attempts + 1
            envelope, claim_id = sign(chosen, worker_id, attempt)
            await conn.execute(
                "UPDATE jobs SET status='running', attempts=%s, worker_id=%s, claim_id=%s, claimed_by=%s,"
                " claimed_at=%s, heartbeat_at=%s, started_at=NULL WHERE id=%s",
                (attempt, worker_id, claim_id, claimed_by, now, now, chosen.id))
        return replace(chosen, status="running", attempts=attempt, worker_id=worker_id, claim_id=claim_id,
                       claimed_by=claimed_by, claimed_at=now, heartbeat_at=now, started_at=None), envelope

    async def report(self, job_id: str, worker_id: str | None, claim_id: str | None, result: dict[str, Any],
                     reporter: str | None = None) -> tuple[JobRecord, bool]:
        """Store a worker's outcome. Returns (job, requeued). JobNotFound, NotClaimed, AlreadyReported, ClaimLost.

        The row is locked first: a second report of the same claim waits, then sees the first one's result."""
        now = self.clock()
        async with self.backend.transaction() as conn:
            row = await self._one(conn, "SELECT * FROM jobs WHERE id=%s FOR UPDATE", (job_id,))
            if row is None:
                raise JobNotFound(job_id)
            job = self._record(row)
            plan = plan_report(job, worker_id, claim_id, reporter, result, now)
            if plan.requeue:
                row = await self._one(
                    conn,
                    "UPDATE jobs SET status='queued', worker_id=NULL, claim_id=NULL, claimed_by=NULL,"
                    " claimed_at=NULL, heartbeat_at=NULL, started_at=NULL WHERE id=%s RETURNING *",
                    (job_id,))
                await conn.execute("UPDATE workers SET job_id=NULL, last_seen=%s WHERE id=%s", (now, worker_id))
                assert row is not None  # locked above
                return self._record(row), True
            status, result, started_at = plan.status, plan.result, plan.started_at
            await conn.execute("UPDATE jobs SET status=%s, result=%s, started_at=%s, finished_at=%s WHERE id=%s",
                               (status, json.dumps(result, separators=_COMPACT), started_at, now, job_id))
            await conn.execute("UPDATE workers SET job_id=NULL, last_seen=%s WHERE id=%s", (now, worker_id))
        return replace(job, status=status, result=result, started_at=started_at, finished_at=now), False

    async def heartbeat(self, worker_id: str, job_id: str | None, claim_id: str | None, stage: str | None,
                        state: str | None, reporter: str | None = None) -> bool:
        """Record worker liveness; returns True when the worker should abandon the job it names."""
        now = self.clock()
        async with self.backend.transaction() as conn:
            if job_id is None:
                await self._touch_worker(conn, worker_id, None, stage, state, now)
                return False
            row = await self._one(
                conn,
                "SELECT status, worker_id, claim_id, claimed_by, started_at FROM jobs WHERE id=%s FOR UPDATE",
                (job_id,))
            held = (row is not None and row["status"] == "running" and row["worker_id"] == worker_id
                    and row["claim_id"] is not None and row["claim_id"] == claim_id
                    and row["claimed_by"] == reporter)
            await self._touch_worker(conn, worker_id, None, stage, state, now, job_id=job_id if held else None)
            if not held or row is None:
                return True
            started = row["started_at"]
            if started is None and state in _RUNNING_STATES:
                started = now
            await conn.execute("UPDATE jobs SET heartbeat_at=%s, started_at=%s WHERE id=%s", (now, started, job_id))
        return False

    async def bind_worker(self, worker_id: str, credential: str) -> str | None:
        """Bind `worker_id` to `credential` unless another valid credential holds it (WorkerIdTaken).

        Returns the credential it took the id over from (bound to a revoked, expired or deleted one), else None.
        A new id is bound by its INSERT; a known one is locked before it changes hands, so two credentials
        racing for one id never both get it. The common case (the id is already this credential's) reads
        without a lock: a unit that goes on to report or heartbeat never holds the worker row before the
        job row (every other transition locks job, then worker)."""
        now = self.clock()
        async with self.backend.transaction() as conn:
            row = await self._one(conn, "SELECT credential FROM workers WHERE id=%s", (worker_id,))
            if row is not None and row["credential"] == credential:
                return None
            row = await self._one(
                conn,
                "INSERT INTO workers(id, credential, first_seen, last_seen) VALUES(%s,%s,%s,%s)"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                (worker_id, credential, now, now))
            if row is not None:
                return None
            row = await self._one(conn, "SELECT credential FROM workers WHERE id=%s FOR UPDATE", (worker_id,))
            held = row["credential"] if row is not None else None
            if held == credential:
                return None
            if held is not None and await self.credential_live(held):
                raise WorkerIdTaken(worker_id)
            await conn.execute("UPDATE workers SET credential=%s WHERE id=%s", (credential, worker_id))
        return held

    async def release_worker(self, worker_id: str) -> str | None:
        """Forget which credential owns `worker_id` (the next one to use it owns it). WorkerNotFound: unknown id."""
        async with self.backend.transaction() as conn:
            row = await self._one(conn, "SELECT credential FROM workers WHERE id=%s FOR UPDATE", (worker_id,))
            if row is None:
                raise WorkerNotFound(worker_id)
            await conn.execute("UPDATE workers SET credential=NULL WHERE id=%s", (worker_id,))
        return row["credential"]

    async def cancel(self, job_id: str) -> JobRecord:
        """Conditional: only a queued or pending job becomes cancelled; a claim that won the race wins."""
        return await self._transition(job_id, {"queued", "pending_approval"}, "cancelled", "not_cancellable",
                                      "status='cancelled', finished_at=%s", (self.clock(),))

    async def approve(self, job_id: str) -> JobRecord:
        return await self._transition(job_id, {"pending_approval"}, "queued", "not_pending_approval",
                                      "status='queued', queued_at=%s", (self.clock(),))

    async def reject(self, job_id: str, reason: str) -> JobRecord:
        """An operator refuses a job before it runs: terminal `rejected`, error type `rejected_by_operator`."""
        result = {"status": "rejected", "error": {"type": "rejected_by_operator", "message": reason}}
        return await self._transition(job_id, {"queued", "pending_approval"}, "rejected", "not_rejectable",
                                      "status='rejected', finished_at=%s, result=%s",
                                      (self.clock(), json.dumps(result, separators=_COMPACT)))

    async def mark_lost(self, timeout_s: float) -> list[JobRecord]:
        """Running jobs whose claim stopped heartbeating become lost (never re-queued). Records that a controller
        was alive now (the restart-grace clock). A report or heartbeat holding the row wins or loses whole:
        the UPDATE re-checks its condition once the row's lock is released."""
        now = self.clock()
        result = json.dumps({"status": "lost",
                             "error": {"type": "lost", "message": f"worker stopped heartbeating for {timeout_s:g} s"}})
        async with self.backend.transaction() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET status='lost', finished_at=%s, result=%s WHERE status='running' AND heartbeat_at<%s"
                " RETURNING *",
                (now, result, now - timeout_s))
            rows = await cur.fetchall()
            await self._stamp_clock(conn, now)
        return sorted((self._record(r) for r in rows), key=lambda j: j.seq)

    async def purge_finished(self, before: float, limit: int) -> int:
        """Delete up to `limit` terminal jobs that finished before `before` (oldest first), with their pictures
        (ON DELETE CASCADE). Never a job that can still change, and never an audit row."""
        async with self.backend.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE finished_at < %s AND status = ANY(%s)"
                " ORDER BY finished_at LIMIT %s)",
                (before, sorted(TERMINAL), limit))
            return cur.rowcount

    async def recover_after_restart(self, interval_s: float = 1.0) -> float:
        """Restart grace without amnesty: credit running jobs with the time NO controller was alive, no more.

        gap = now - the last sweep (controller_clock). Only when gap > 2 * `interval_s` (no replica swept
        meanwhile) does each running job get `gap` added to its last heartbeat, capped at now (a job that
        heartbeated after that sweep is never credited past the present). The clock is stamped in the same
        transaction, so a crash-looping replica credits each outage once, never a fresh window per restart;
        the clock row is locked, so two replicas restarting together credit it once between them. Returns
        the seconds credited (0.0 when another replica was alive, or no sweep was ever recorded); the same
        rule as the SQLite JobStore."""
        now = self.clock()
        async with self.backend.transaction() as conn:
            row = await self._one(conn, "SELECT alive_at FROM controller_clock WHERE name=%s FOR UPDATE",
                                  (CLOCK_ROW,))
            gap = 0.0 if row is None else now - float(row["alive_at"])
            if gap > 2 * interval_s:
                await conn.execute(
                    "UPDATE jobs SET heartbeat_at = LEAST(heartbeat_at + %s, %s) WHERE status='running'", (gap, now))
            else:
                gap = 0.0
            await self._stamp_clock(conn, now)
        return gap

    async def _stamp_clock(self, conn: Connection, now: float) -> None:
        await conn.execute(
            "INSERT INTO controller_clock(name, alive_at) VALUES(%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET alive_at=excluded.alive_at",
            (CLOCK_ROW, now))

    # ---- helpers -------------------------------------------------------------------------------
    async def _transition(self, job_id: str, allowed: set[str], to: str, code: str, assignments: str,
                          args: tuple[object, ...]) -> JobRecord:
        """One conditional UPDATE; only when it matched nothing, a plain read tells not-found from not-allowed."""
        async with self.backend.transaction() as conn:
            row = await self._one(
                conn, f"UPDATE jobs SET {assignments} WHERE id=%s AND status = ANY(%s) RETURNING *",  # noqa: S608
                (*args, job_id, sorted(allowed)))
            if row is not None:
                return self._record(row)
            row = await self._one(conn, "SELECT status FROM jobs WHERE id=%s", (job_id,))
        if row is None:
            raise JobNotFound(job_id)
        raise InvalidTransition(job_id, row["status"], allowed, to, code)

    @staticmethod
    async def _touch_worker(conn: Connection, worker_id: str, labels: list[str] | None, stage: str | None,
                            state: str | None, now: float, job_id: str | None = None) -> None:
        """Record the worker as seen (labels when given, stage and state when not None, `job_id` when given)."""
        await conn.execute(
            "INSERT INTO workers(id, labels, stage, state, job_id, first_seen, last_seen) VALUES(%s,%s,%s,%s,%s,%s,%s)"
            " ON CONFLICT (id) DO UPDATE SET last_seen=excluded.last_seen,"
            " labels=CASE WHEN %s THEN excluded.labels ELSE workers.labels END,"
            " stage=COALESCE(excluded.stage, workers.stage), state=COALESCE(excluded.state, workers.state),"
            " job_id=COALESCE(excluded.job_id, workers.job_id)",
            (worker_id, Jsonb(sorted(labels or [])), stage, state, job_id, now, now, labels is not None))
