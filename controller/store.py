"""The durable job queue on the shared SQLite file.

Every state change is one IMMEDIATE transaction, so a claim is atomic even across processes: two
workers can never hold the same job, and a controller killed mid-write leaves the last committed
state, which is all a restart needs.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kitgate.controller.db import Database
from kitgate.controller.errors import ApiError

_DDL = [
    """CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        policy TEXT NOT NULL,
        policy_digest TEXT NOT NULL,
        code TEXT NOT NULL,
        code_sha256 TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '[]',
        idempotency_key TEXT,
        timeout_s REAL,
        limits TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER NOT NULL DEFAULT 0,
        worker_id TEXT,
        claim_id TEXT,
        claimed_by TEXT,
        created_at REAL NOT NULL,
        queued_at REAL,
        claimed_at REAL,
        started_at REAL,
        finished_at REAL,
        heartbeat_at REAL,
        result TEXT
    )""",
    "CREATE UNIQUE INDEX jobs_idem ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX jobs_queue ON jobs(status, queued_at, seq)",
    "CREATE INDEX jobs_owner ON jobs(owner, seq)",
    """CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        labels TEXT NOT NULL DEFAULT '[]',
        stage TEXT,
        state TEXT,
        job_id TEXT,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    )""",
]

TERMINAL = frozenset({"succeeded", "failed", "timed_out", "rejected", "cancelled", "lost"})
# A worker reports this error type (with status "rejected") when it refused a job before running any
# of it (expired envelope, shutting down, busy); only such jobs are re-queued, because scene edits
# are not idempotent and a job that may have started must never run twice.
NOT_STARTED = "not_started"


@dataclass(frozen=True)
class JobRecord:
    """One row of the jobs table, decoded."""

    seq: int
    id: str
    owner: str
    status: str
    policy: str
    policy_digest: str
    code: str
    code_sha256: str
    labels: list[str]
    idempotency_key: str | None
    timeout_s: float | None
    limits: dict[str, Any]
    attempts: int
    max_retries: int
    worker_id: str | None
    claim_id: str | None
    claimed_by: str | None
    created_at: float
    queued_at: float | None
    claimed_at: float | None
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    result: dict[str, Any] | None = field(default=None)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> JobRecord:
        data = dict(row)
        data["labels"] = json.loads(data["labels"])
        data["limits"] = json.loads(data["limits"])
        data["result"] = json.loads(data["result"]) if data["result"] else None
        return cls(**data)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def view(self) -> dict[str, Any]:
        """The JobView JSON: everything but the code, the claim id and internal bookkeeping."""
        return {
            "id": self.id,
            "task_id": self.id,
            "status": self.status,
            "policy": self.policy,
            "policy_digest": self.policy_digest,
            "code_sha256": self.code_sha256,
            "labels": self.labels,
            "owner": self.owner,
            "idempotency_key": self.idempotency_key,
            "timeout_s": self.timeout_s,
            "attempts": self.attempts,
            "max_retries": self.max_retries,
            "worker_id": self.worker_id,
            "created_at": self.created_at,
            "queued_at": self.queued_at,
            "claimed_at": self.claimed_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
        }


@dataclass(frozen=True)
class NewJob:
    owner: str
    policy: str
    policy_digest: str
    code: str
    code_sha256: str
    labels: list[str]
    timeout_s: float | None
    limits: dict[str, Any]
    max_retries: int
    requires_approval: bool
    idempotency_key: str | None = None


# sign(job, worker_id, attempt) -> (envelope, claim_id); called inside the claim transaction
Signer = Callable[[JobRecord, str, int], tuple[str, str]]


class JobStore:
    """All job state transitions. Methods are synchronous and short; callers own the wake-ups."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def migrate(self) -> None:
        self.db.migrate("jobs", _DDL)

    # ---- reads -------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord | None:
        row = self.db.connection().execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return JobRecord.from_row(row) if row else None

    def find_idempotent(self, owner: str, key: str) -> JobRecord | None:
        row = (
            self.db.connection()
            .execute("SELECT * FROM jobs WHERE owner=? AND idempotency_key=?", (owner, key))
            .fetchone()
        )
        return JobRecord.from_row(row) if row else None

    def list(
        self, owner: str | None, limit: int, before_seq: int | None = None, status: str | None = None
    ) -> list[JobRecord]:
        """Newest first; `before_seq` is the keyset cursor so pages stay stable while jobs arrive."""
        clauses, params = [], []
        if owner is not None:
            clauses.append("owner=?")
            params.append(owner)
        if before_seq is not None:
            clauses.append("seq<?")
            params.append(before_seq)
        if status is not None:
            clauses.append("status=?")
            params.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ?"  # noqa: S608 - clauses are constants
        rows = self.db.connection().execute(sql, (*params, limit)).fetchall()
        return [JobRecord.from_row(r) for r in rows]

    def last(self, owner: str | None) -> JobRecord | None:
        jobs = self.list(owner, 1)
        return jobs[0] if jobs else None

    def counts(self) -> dict[str, int]:
        rows = self.db.connection().execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {r[0]: r[1] for r in rows}

    def workers(self) -> list[dict[str, Any]]:
        rows = self.db.connection().execute("SELECT * FROM workers ORDER BY last_seen DESC LIMIT 1000").fetchall()
        return [{**dict(r), "labels": json.loads(r["labels"])} for r in rows]

    # ---- writes ------------------------------------------------------------------------------
    def create(self, job: NewJob) -> tuple[JobRecord, bool]:
        """Insert a job; with an idempotency key already used by this owner, return that job instead."""
        now = self.clock()
        status = "pending_approval" if job.requires_approval else "queued"
        with self.db.write() as conn:
            if job.idempotency_key is not None:
                row = conn.execute(
                    "SELECT * FROM jobs WHERE owner=? AND idempotency_key=?", (job.owner, job.idempotency_key)
                ).fetchone()
                if row is not None:
                    return JobRecord.from_row(row), False
            job_id = "j_" + secrets.token_hex(12)
            row = conn.execute(
                "INSERT INTO jobs(id, owner, status, policy, policy_digest, code, code_sha256, labels,"
                " idempotency_key, timeout_s, limits, max_retries, created_at, queued_at)"
                " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING *",
                (
                    job_id,
                    job.owner,
                    status,
                    job.policy,
                    job.policy_digest,
                    job.code,
                    job.code_sha256,
                    json.dumps(job.labels),
                    job.idempotency_key,
                    job.timeout_s,
                    json.dumps(job.limits),
                    job.max_retries,
                    now,
                    now if status == "queued" else None,
                ),
            ).fetchone()
        return JobRecord.from_row(row), True

    def has_claimable(self, labels: Iterable[str]) -> bool:
        """A read-only look (no write lock): is any queued job's label set within `labels`?"""
        have = set(labels)
        cur = self.db.connection().execute("SELECT labels FROM jobs WHERE status='queued' ORDER BY queued_at, seq")
        try:
            while batch := cur.fetchmany(16):
                if any(set(json.loads(row[0])) <= have for row in batch):
                    return True
            return False
        finally:
            cur.close()

    def claim(
        self, worker_id: str, labels: Iterable[str], sign: Signer, claimed_by: str | None = None
    ) -> tuple[JobRecord, str] | None:
        """Hand the oldest queued job whose labels the worker has to this worker, in one transaction."""
        have = set(labels)
        now = self.clock()
        with self.db.write() as conn:
            # only the labels of the queue's head (not 64 whole rows with their code), then the one row
            cur = conn.execute("SELECT id, labels FROM jobs WHERE status='queued' ORDER BY queued_at, seq")
            chosen_id: str | None = None
            while chosen_id is None:
                batch = cur.fetchmany(16)
                if not batch:
                    break
                chosen_id = next((r[0] for r in batch if set(json.loads(r[1])) <= have), None)
            cur.close()
            chosen: JobRecord | None = None
            if chosen_id is not None:
                chosen = JobRecord.from_row(conn.execute("SELECT * FROM jobs WHERE id=?", (chosen_id,)).fetchone())
            self._touch_worker(conn, worker_id, have, None, "claiming" if chosen is None else "running", now)
            if chosen is None:
                return None
            attempt = chosen.attempts + 1
            envelope, claim_id = sign(chosen, worker_id, attempt)
            row = conn.execute(
                "UPDATE jobs SET status='running', attempts=?, worker_id=?, claim_id=?, claimed_by=?, claimed_at=?,"
                " heartbeat_at=?, started_at=NULL WHERE id=? RETURNING *",
                (attempt, worker_id, claim_id, claimed_by, now, now, chosen.id),
            ).fetchone()
            conn.execute("UPDATE workers SET job_id=? WHERE id=?", (chosen.id, worker_id))
        return JobRecord.from_row(row), envelope

    def report(
        self,
        job_id: str,
        worker_id: str | None,
        claim_id: str | None,
        result: dict[str, Any],
        reporter: str | None = None,
    ) -> tuple[JobRecord, bool]:
        """Store a worker's outcome. Returns (job, requeued). Raises ApiError 404/409."""
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                raise ApiError(404, "not_found", f"job {job_id!r} does not exist")
            job = JobRecord.from_row(row)
            holds = (
                job.claim_id is not None
                and job.claim_id == claim_id
                and job.worker_id == worker_id
                and job.claimed_by == reporter
            )
            if not holds:
                raise ApiError(
                    409, "not_claimed", f"job {job_id!r} is not held by worker {worker_id!r} under this claim_id"
                )
            if job.status != "running":
                if job.result is not None and job.status != "lost":
                    raise ApiError(409, "already_reported", f"job {job_id!r} was already reported as {job.status}")
                raise ApiError(
                    409, "claim_lost", f"job {job_id!r} is {job.status}; the claim ended before this report arrived"
                )
            status = result["status"]
            error = result.get("error") or {}
            timings = dict(result.get("timings") or {})
            started = timings.get("started_at")
            started_at = job.started_at or (float(started) if isinstance(started, int | float) else None)
            never_started = status == "rejected" and error.get("type") == NOT_STARTED
            if never_started and job.attempts - 1 < job.max_retries:
                row = conn.execute(
                    "UPDATE jobs SET status='queued', worker_id=NULL, claim_id=NULL, claimed_by=NULL, claimed_at=NULL,"
                    " heartbeat_at=NULL, started_at=NULL WHERE id=? RETURNING *",
                    (job_id,),
                ).fetchone()
                conn.execute("UPDATE workers SET job_id=NULL, last_seen=? WHERE id=?", (now, worker_id))
                return JobRecord.from_row(row), True
            timings.update(queued_at=job.queued_at, claimed_at=job.claimed_at, started_at=started_at, finished_at=now)
            result = {**result, "timings": timings, "claim_id": None}
            conn.execute(
                "UPDATE jobs SET status=?, result=?, started_at=?, finished_at=? WHERE id=?",
                (status, json.dumps(result, separators=(",", ":")), started_at, now, job_id),
            )
            conn.execute("UPDATE workers SET job_id=NULL, last_seen=? WHERE id=?", (now, worker_id))
        # the stored row is known without reading it back (and without decoding the JSON just encoded)
        return replace(job, status=status, result=result, started_at=started_at, finished_at=now), False

    def heartbeat(
        self,
        worker_id: str,
        job_id: str | None,
        claim_id: str | None,
        stage: str | None,
        state: str | None,
        reporter: str | None = None,
    ) -> bool:
        """Record worker liveness; returns True when the worker should abandon the job it names."""
        now = self.clock()
        with self.db.write() as conn:
            self._touch_worker(conn, worker_id, None, stage, state, now)
            if job_id is None:
                return False
            row = conn.execute(
                "SELECT status, worker_id, claim_id, claimed_by, started_at FROM jobs WHERE id=?", (job_id,)
            ).fetchone()
            held = (
                row is not None
                and row["status"] == "running"
                and row["worker_id"] == worker_id
                and row["claim_id"] is not None
                and row["claim_id"] == claim_id
                and row["claimed_by"] == reporter
            )
            if not held:
                return True
            started = row["started_at"]
            if started is None and state in {"running", "started", "executing"}:
                started = now
            conn.execute("UPDATE jobs SET heartbeat_at=?, started_at=? WHERE id=?", (now, started, job_id))
            conn.execute("UPDATE workers SET job_id=? WHERE id=?", (job_id, worker_id))
        return False

    def cancel(self, job_id: str) -> JobRecord:
        return self._transition(job_id, {"queued", "pending_approval"}, "cancelled", "not_cancellable")

    def approve(self, job_id: str) -> JobRecord:
        return self._transition(job_id, {"pending_approval"}, "queued", "not_pending_approval")

    def mark_lost(self, timeout_s: float) -> list[JobRecord]:
        """Running jobs whose claim stopped heartbeating become lost; they are never re-queued."""
        now = self.clock()
        result = json.dumps(
            {
                "status": "lost",
                "error": {"type": "lost", "message": f"worker stopped heartbeating for {timeout_s:g} s"},
            }
        )
        with self.db.write() as conn:
            rows = conn.execute(
                "UPDATE jobs SET status='lost', finished_at=?, result=? WHERE status='running' AND heartbeat_at<?"
                " RETURNING *",
                (now, result, now - timeout_s),
            ).fetchall()
        return [JobRecord.from_row(r) for r in rows]

    def recover_after_restart(self) -> int:
        """Give running jobs a full heartbeat window after a restart, so a live worker can still report."""
        with self.db.write() as conn:
            cur = conn.execute("UPDATE jobs SET heartbeat_at=? WHERE status='running'", (self.clock(),))
            return cur.rowcount

    # ---- helpers -----------------------------------------------------------------------------
    def _transition(self, job_id: str, allowed: set[str], to: str, code: str) -> JobRecord:
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                raise ApiError(404, "not_found", f"job {job_id!r} does not exist")
            if row["status"] not in allowed:
                raise ApiError(
                    409,
                    code,
                    f"job {job_id!r} is {row['status']}; only {' or '.join(sorted(allowed))} jobs can become {to}",
                    {"status": row["status"]},
                )
            if to == "queued":
                conn.execute("UPDATE jobs SET status='queued', queued_at=? WHERE id=?", (now, job_id))
            else:
                conn.execute("UPDATE jobs SET status=?, finished_at=? WHERE id=?", (to, now, job_id))
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return JobRecord.from_row(row)

    @staticmethod
    def _touch_worker(
        conn: sqlite3.Connection,
        worker_id: str,
        labels: set[str] | None,
        stage: str | None,
        state: str | None,
        now: float,
    ) -> None:
        conn.execute(
            "INSERT INTO workers(id, labels, stage, state, first_seen, last_seen) VALUES(?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET last_seen=excluded.last_seen,"
            " labels=CASE WHEN ? THEN excluded.labels ELSE workers.labels END,"
            " stage=COALESCE(excluded.stage, workers.stage), state=COALESCE(excluded.state, workers.state)",
            (worker_id, json.dumps(sorted(labels or [])), stage, state, now, now, labels is not None),
        )
