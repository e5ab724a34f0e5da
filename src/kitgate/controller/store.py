"""The durable job queue on the shared SQLite file.

Every state change is one IMMEDIATE transaction, so a claim is atomic even across processes: two
workers can never hold the same job, and a controller killed mid-write leaves the last committed
state, which is all a restart needs.

A worker id belongs to the credential (token or API key) that first used it: the binding is a column of
the workers row, so it survives restarts, and another live credential cannot claim, heartbeat or report
under that id (it would rewrite the worker's labels, stage and state).
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
from kitgate.controller.domain_errors import (
    AlreadyReported,
    ClaimLost,
    InvalidTransition,
    JobNotFound,
    NotClaimed,
    WorkerIdTaken,
    WorkerNotFound,
)
from kitgate.controller.security.jsonshape import deeper_than
from kitgate.protocol.status import NOT_STARTED, TERMINAL_STATUSES

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
    "ALTER TABLE workers ADD COLUMN credential TEXT",  # "<kind>:<token or key id>" that owns the id
    # retention (purge_finished): finished jobs by age, so a sweep that finds nothing old costs one index probe
    "CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL",
    # restart grace without amnesty: when a controller was last alive ('sweeper': the last mark_lost)
    "CREATE TABLE controller_clock (name TEXT PRIMARY KEY, alive_at REAL NOT NULL)",
]
_ALIVE_SQL = (
    "INSERT INTO controller_clock(name, alive_at) VALUES('sweeper', ?)"
    " ON CONFLICT(name) DO UPDATE SET alive_at=excluded.alive_at"
)

TERMINAL = TERMINAL_STATUSES  # kitgate.protocol.status; NOT_STARTED (the re-queue rule) is defined there too
# Oldest finished first, through jobs_finished: `+status` keeps the planner off the status index, which would
# read every finished job (and sort them) on each sweep, even when none is old enough.
_PURGE_SQL = (
    "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE finished_at < ? AND +status IN"  # noqa: S608
    f" ({','.join('?' * len(TERMINAL))}) ORDER BY finished_at LIMIT ?)"
)
DEFAULT_VALUE_DEPTH = 100  # Settings.max_json_depth's default


def _withheld(max_depth: int) -> dict[str, str]:
    return {"withheld": f"the value nests deeper than {max_depth} levels (stored before KITGATE_MAX_JSON_DEPTH "
                        "applied to results); it cannot be served"}


def decode_result(text: str | None, status: str, max_depth: int) -> dict[str, Any] | None:
    """A stored result, with a value too deep to serialise replaced by a note (only `value` is free-form)."""
    if not text:
        return None
    if not deeper_than(text, max_depth):
        return json.loads(text)
    try:
        result = json.loads(text)
    except RecursionError:
        return {"status": status, "value": _withheld(max_depth)}
    result["value"] = _withheld(max_depth)
    return result


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
    def from_row(cls, row: sqlite3.Row, max_value_depth: int = DEFAULT_VALUE_DEPTH) -> JobRecord:
        data = dict(row)
        data["labels"] = json.loads(data["labels"])
        data["limits"] = json.loads(data["limits"])
        data["result"] = decode_result(data["result"], data["status"], max_value_depth)
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
            "render": self.limits.get("render"),  # the picture the job asked for (signed with its limits)
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


@dataclass(frozen=True)
class ReportPlan:
    """What a report does to its (locked) job: re-queue it, or store `status` and `result`."""

    requeue: bool
    status: str
    result: dict[str, Any]
    started_at: float | None


def plan_report(job: JobRecord, worker_id: str | None, claim_id: str | None, reporter: str | None,
                result: dict[str, Any], now: float) -> ReportPlan:
    """The engine-independent half of a report, shared by SQLite and PostgreSQL (each runs it on the row it
    has locked): only the claim's holder may report (NotClaimed), only once (AlreadyReported), and not after
    the job went lost (ClaimLost). A job that never started goes back to the queue while retries remain;
    any other outcome is stored with the queue/claim/start/finish timings and without the claim id."""
    holds = (
        job.claim_id is not None
        and job.claim_id == claim_id
        and job.worker_id == worker_id
        and job.claimed_by == reporter
    )
    if not holds:
        raise NotClaimed(job.id, worker_id)
    if job.status != "running":
        if job.result is not None and job.status != "lost":
            raise AlreadyReported(job.id, job.status)
        raise ClaimLost(job.id, job.status)
    status = result["status"]
    error = result.get("error") or {}
    timings = dict(result.get("timings") or {})
    started = timings.get("started_at")
    started_at = job.started_at or (float(started) if isinstance(started, int | float) else None)
    if status == "rejected" and error.get("type") == NOT_STARTED and job.attempts - 1 < job.max_retries:
        return ReportPlan(True, "queued", result, None)
    timings.update(queued_at=job.queued_at, claimed_at=job.claimed_at, started_at=started_at, finished_at=now)
    return ReportPlan(False, status, {**result, "timings": timings, "claim_id": None}, started_at)


# sign(job, worker_id, attempt) -> (envelope, claim_id); called inside the claim transaction
Signer = Callable[[JobRecord, str, int], tuple[str, str]]


class JobStore:
    """All job state transitions. Methods are synchronous and short; callers own the wake-ups."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time,
                 max_value_depth: int = DEFAULT_VALUE_DEPTH) -> None:
        self.db = db
        self.clock = clock
        self.max_value_depth = max_value_depth
        # Is a credential ("<kind>:<id>") still valid? The security layer answers; until it is wired in,
        # every credential counts as valid, so a binding is never taken over.
        self.credential_live: Callable[[str], bool] = lambda _credential: True

    def migrate(self) -> None:
        self.db.migrate("jobs", _DDL)

    # ---- reads -------------------------------------------------------------------------------
    def _record(self, row: sqlite3.Row) -> JobRecord:
        return JobRecord.from_row(row, self.max_value_depth)

    def get(self, job_id: str) -> JobRecord | None:
        row = self.db.connection().execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return self._record(row) if row else None

    def find_idempotent(self, owner: str, key: str) -> JobRecord | None:
        row = (
            self.db.connection()
            .execute("SELECT * FROM jobs WHERE owner=? AND idempotency_key=?", (owner, key))
            .fetchone()
        )
        return self._record(row) if row else None

    def list(
        self, owner: str | None, limit: int, before_seq: int | None = None, status: str | None = None,
        policy: str | None = None,
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
        if policy is not None:
            clauses.append("policy=?")
            params.append(policy)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ?"  # noqa: S608 - clauses are constants
        rows = self.db.connection().execute(sql, (*params, limit)).fetchall()
        return [self._record(r) for r in rows]

    def last(self, owner: str | None) -> JobRecord | None:
        jobs = self.list(owner, 1)
        return jobs[0] if jobs else None

    def ping(self) -> bool:
        """Read the jobs table once: True when the database answers (sqlite3.Error otherwise)."""
        self.db.connection().execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
        return True

    def counts(self) -> dict[str, int]:
        rows = self.db.connection().execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {r[0]: r[1] for r in rows}

    def workers(self) -> list[dict[str, Any]]:
        """Admin view; `credential` is the "<kind>:<id>" the worker id is bound to (ids, never secrets)."""
        rows = self.db.connection().execute("SELECT * FROM workers ORDER BY last_seen DESC LIMIT 1000").fetchall()
        return [{**dict(r), "labels": json.loads(r["labels"])} for r in rows]

    def queue_position(self, job: JobRecord) -> int:
        """1 + the queued jobs (any owner) that a worker would look at before this one."""
        row = self.db.connection().execute(
            "SELECT COUNT(*) FROM jobs WHERE status='queued' AND (queued_at<? OR (queued_at=? AND seq<?))",
            (job.queued_at or 0.0, job.queued_at or 0.0, job.seq),
        ).fetchone()
        return int(row[0]) + 1

    def live_workers(self, seen_within_s: float) -> list[dict[str, Any]]:
        """Workers seen in the last `seen_within_s` seconds that did not say they stopped."""
        rows = self.db.connection().execute(
            "SELECT id, labels, stage FROM workers WHERE last_seen>=? AND COALESCE(state, '')<>'stopped'",
            (self.clock() - seen_within_s,),
        ).fetchall()
        return [{"id": r["id"], "labels": json.loads(r["labels"]), "stage": r["stage"]} for r in rows]

    def worker_stage(self, worker_id: str) -> str | None:
        row = self.db.connection().execute("SELECT stage FROM workers WHERE id=?", (worker_id,)).fetchone()
        return row["stage"] if row else None

    def worker_credential(self, worker_id: str) -> str | None:
        """The "<kind>:<id>" credential `worker_id` is bound to (None: unknown or released); read-only."""
        row = self.db.connection().execute("SELECT credential FROM workers WHERE id=?", (worker_id,)).fetchone()
        return row["credential"] if row else None

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
                    return self._record(row), False
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
        return self._record(row), True

    def has_claimable(self, labels: Iterable[str], policies: frozenset[str] | None = None) -> bool:
        """A read-only look (no write lock): is any queued job for these labels (and policies) waiting?"""
        return self._first_claimable(self.db.connection(), set(labels), policies) is not None

    @staticmethod
    def _first_claimable(conn: sqlite3.Connection, have: set[str], policies: frozenset[str] | None) -> str | None:
        """The oldest queued job whose labels the worker has and whose policy its credential allows
        (`policies` None: any). Only the queue's head columns are read, never whole rows with their code."""
        cur = conn.execute("SELECT id, labels, policy FROM jobs WHERE status='queued' ORDER BY queued_at, seq")
        try:
            while batch := cur.fetchmany(16):
                for job_id, labels, policy in batch:
                    if (policies is None or policy in policies) and set(json.loads(labels)) <= have:
                        return str(job_id)
            return None
        finally:
            cur.close()

    def count_awaiting_approval(self, labels: Iterable[str], policies: frozenset[str] | None, cap: int) -> int:
        """How many `pending_approval` jobs a worker with these labels (and policies) could claim once approved,
        counted up to `cap`. One read-only COUNT on the status index; the same match as `_first_claimable`
        (the job's labels are a subset of the worker's, its policy allowed; `policies` None: any)."""
        have = sorted(set(labels))
        # only "?" placeholders are joined into the SQL text (S608): every label and policy name is bound
        sql = "SELECT 1 FROM jobs WHERE status='pending_approval' AND NOT EXISTS (SELECT 1 FROM json_each(jobs.labels)"
        sql += f" WHERE value NOT IN ({','.join('?' * len(have))}))"  # noqa: S608
        args: list[object] = [*have]
        if policies is not None:
            sql += f" AND policy IN ({','.join('?' * len(policies))})"
            args.extend(sorted(policies))
        counted = f"SELECT COUNT(*) FROM ({sql} LIMIT ?)"  # noqa: S608
        row = self.db.connection().execute(counted, (*args, max(0, cap))).fetchone()
        return int(row[0])

    def claim(
        self, worker_id: str, labels: Iterable[str], sign: Signer, claimed_by: str | None = None,
        policies: frozenset[str] | None = None, stage: str | None = None,
    ) -> tuple[JobRecord, str] | None:
        """Hand the oldest queued job this worker may run (labels, policies) to it, in one transaction."""
        have = set(labels)
        now = self.clock()
        with self.db.write() as conn:
            chosen_id = self._first_claimable(conn, have, policies)
            chosen: JobRecord | None = None
            if chosen_id is not None:
                chosen = self._record(conn.execute("SELECT * FROM jobs WHERE id=?", (chosen_id,)).fetchone())
            # the worker row is touched once, with the job it now holds (no second UPDATE of it)
            self._touch_worker(conn, worker_id, have, stage, "claiming" if chosen is None else "running", now,
                               job_id=None if chosen is None else chosen.id)
            if chosen is None:
                return None
            attempt = chosen.attempts + 1
            envelope, claim_id = sign(chosen, worker_id, attempt)
            conn.execute(
                "UPDATE jobs SET status='running', attempts=?, worker_id=?, claim_id=?, claimed_by=?, claimed_at=?,"
                " heartbeat_at=?, started_at=NULL WHERE id=?",
                (attempt, worker_id, claim_id, claimed_by, now, now, chosen.id),
            )
        # the stored row is known without reading it back and decoding its JSON again
        return replace(chosen, status="running", attempts=attempt, worker_id=worker_id, claim_id=claim_id,
                       claimed_by=claimed_by, claimed_at=now, heartbeat_at=now, started_at=None), envelope

    def report(
        self,
        job_id: str,
        worker_id: str | None,
        claim_id: str | None,
        result: dict[str, Any],
        reporter: str | None = None,
    ) -> tuple[JobRecord, bool]:
        """Store a worker's outcome. Returns (job, requeued). JobNotFound, NotClaimed, AlreadyReported, ClaimLost."""
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFound(job_id)
            job = self._record(row)
            plan = plan_report(job, worker_id, claim_id, reporter, result, now)
            if plan.requeue:
                row = conn.execute(
                    "UPDATE jobs SET status='queued', worker_id=NULL, claim_id=NULL, claimed_by=NULL, claimed_at=NULL,"
                    " heartbeat_at=NULL, started_at=NULL WHERE id=? RETURNING *",
                    (job_id,),
                ).fetchone()
                conn.execute("UPDATE workers SET job_id=NULL, last_seen=? WHERE id=?", (now, worker_id))
                return self._record(row), True
            status, result, started_at = plan.status, plan.result, plan.started_at
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
            if job_id is None:
                self._touch_worker(conn, worker_id, None, stage, state, now)
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
            # seen either way; the job it names is recorded as its job only while it holds the claim
            self._touch_worker(conn, worker_id, None, stage, state, now, job_id=job_id if held else None)
            if not held:
                return True
            started = row["started_at"]
            if started is None and state in {"running", "started", "executing"}:
                started = now
            conn.execute("UPDATE jobs SET heartbeat_at=?, started_at=? WHERE id=?", (now, started, job_id))
        return False

    def bind_worker(self, worker_id: str, credential: str) -> str | None:
        """Bind `worker_id` to `credential` unless another valid credential holds it (WorkerIdTaken).

        Returns the credential it took the id over from (bound to a revoked, expired or deleted one), else
        None. Runs inside the caller's transaction, before the worker row is touched.
        """
        with self.db.write() as conn:
            row = conn.execute("SELECT credential FROM workers WHERE id=?", (worker_id,)).fetchone()
            held = row[0] if row is not None else None
            if held == credential:
                return None
            if held is not None and self.credential_live(held):
                raise WorkerIdTaken(worker_id)
            now = self.clock()
            conn.execute(
                "INSERT INTO workers(id, credential, first_seen, last_seen) VALUES(?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET credential=excluded.credential",
                (worker_id, credential, now, now),
            )
        return held

    def release_worker(self, worker_id: str) -> str | None:
        """Forget which credential owns `worker_id` (the next one to use it owns it). WorkerNotFound: unknown id."""
        with self.db.write() as conn:
            row = conn.execute("SELECT credential FROM workers WHERE id=?", (worker_id,)).fetchone()
            if row is None:
                raise WorkerNotFound(worker_id)
            conn.execute("UPDATE workers SET credential=NULL WHERE id=?", (worker_id,))
        return row[0]

    def cancel(self, job_id: str) -> JobRecord:
        return self._transition(job_id, {"queued", "pending_approval"}, "cancelled", "not_cancellable")

    def approve(self, job_id: str) -> JobRecord:
        return self._transition(job_id, {"pending_approval"}, "queued", "not_pending_approval")

    def reject(self, job_id: str, reason: str) -> JobRecord:
        """An operator refuses a job before it runs: terminal `rejected`, error type `rejected_by_operator`."""
        result = {"status": "rejected", "error": {"type": "rejected_by_operator", "message": reason}}
        with self.db.write() as conn:  # nests: the transition and its reason commit together
            self._transition(job_id, {"queued", "pending_approval"}, "rejected", "not_rejectable")
            row = conn.execute(
                "UPDATE jobs SET result=? WHERE id=? AND status='rejected' RETURNING *",
                (json.dumps(result, separators=(",", ":")), job_id),
            ).fetchone()
        return self._record(row)

    def mark_lost(self, timeout_s: float) -> list[JobRecord]:
        """Running jobs whose claim stopped heartbeating become lost; they are never re-queued. The same
        transaction records that a controller is alive now (the clock `recover_after_restart` reads)."""
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
            conn.execute(_ALIVE_SQL, (now,))
        return [self._record(r) for r in rows]

    def purge_finished(self, before: float, limit: int) -> int:
        """Delete up to `limit` terminal jobs that finished before `before` (oldest first), with their pictures
        (job_images rows go with their job: ON DELETE CASCADE). Never a job that can still change, and never
        an audit row: the audit chain only names job ids. A deleted job's idempotency key is free again."""
        with self.db.write() as conn:
            return conn.execute(_PURGE_SQL, (before, *sorted(TERMINAL), limit)).rowcount

    def recover_after_restart(self, interval_s: float = 1.0) -> float:
        """Restart grace without amnesty: credit running jobs with the time no controller was alive, no more.

        gap = now - the last `mark_lost` (controller_clock 'sweeper'). When it is longer than two sweep
        intervals (`interval_s`), nobody was watching the heartbeats for `gap` seconds, so each running job
        gets `gap` added to its last heartbeat: a live worker keeps the rest of its window to heartbeat
        again, and a dead one is lost after its timeout plus the real outage. A job that heartbeated after
        the last sweep (the controller died within one interval of it) is credited up to now, never past it:
        `heartbeat_at = MIN(heartbeat_at + gap, now)`, which for every job that heartbeated before the last
        sweep is exactly `+ gap`. A crash-looping controller credits each outage once (this stamps the clock
        too, so a restart that dies before its first sweep is not credited twice), never a fresh window per
        restart; a restart while another replica was sweeping (gap short) credits nothing, and so does a
        database that never recorded a sweep. Returns the seconds credited.
        """
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT alive_at FROM controller_clock WHERE name='sweeper'").fetchone()
            gap = 0.0 if row is None else now - float(row[0])
            if gap > 2 * interval_s:
                conn.execute("UPDATE jobs SET heartbeat_at=MIN(heartbeat_at+?, ?) WHERE status='running'", (gap, now))
            else:
                gap = 0.0
            conn.execute(_ALIVE_SQL, (now,))  # this outage is credited: a later restart counts from here
        return gap

    # ---- helpers -----------------------------------------------------------------------------
    def _transition(self, job_id: str, allowed: set[str], to: str, code: str) -> JobRecord:
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFound(job_id)
            if row["status"] not in allowed:
                raise InvalidTransition(job_id, row["status"], allowed, to, code)
            if to == "queued":
                conn.execute("UPDATE jobs SET status='queued', queued_at=? WHERE id=?", (now, job_id))
            else:
                conn.execute("UPDATE jobs SET status=?, finished_at=? WHERE id=?", (to, now, job_id))
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return self._record(row)

    @staticmethod
    def _touch_worker(
        conn: sqlite3.Connection,
        worker_id: str,
        labels: set[str] | None,
        stage: str | None,
        state: str | None,
        now: float,
        job_id: str | None = None,
    ) -> None:
        """Record the worker as seen (labels when given, stage and state when not None, `job_id` when given)."""
        conn.execute(
            "INSERT INTO workers(id, labels, stage, state, job_id, first_seen, last_seen) VALUES(?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET last_seen=excluded.last_seen,"
            " labels=CASE WHEN ? THEN excluded.labels ELSE workers.labels END,"
            " stage=COALESCE(excluded.stage, workers.stage), state=COALESCE(excluded.state, workers.state),"
            " job_id=COALESCE(excluded.job_id, workers.job_id)",
            (worker_id, json.dumps(sorted(labels or [])), stage, state, job_id, now, now, labels is not None),
        )
