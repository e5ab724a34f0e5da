"""The one store boundary: what the service, the routes and the CLI may ask of durable state.

Why a boundary at all: one controller on one SQLite file got its atomicity from SQLite's single write
lock. Several replicas on PostgreSQL do not have that lock, so every read-then-write must be closed in
SQL instead (row locks, SKIP LOCKED, conditional updates, ON CONFLICT). Both engines implement the
protocols below; the service never sees which one it talks to, and the same contract tests run against
both (tests/controller/store_contract).

Rules every implementation keeps:
- Every method that touches the database is `async`. SQLite's run inline on the event loop (they are
  short and never wait on the network); PostgreSQL's go through a psycopg 3 async pool.
- `Backend.unit()` is ONE transaction for everything awaited inside it, across the job store, the
  pictures, the audit trail, tokens and API keys: a state change and its audit record commit together
  or not at all. Units nest (an inner unit joins the outer one). A store method called outside a unit
  runs in its own short transaction.
- `Backend.after_commit(fn)` runs `fn` once the current unit has committed (now, outside a unit); it
  never runs after a rollback. Wake-ups and NOTIFY go there, never before the commit.
- The store raises domain errors (kitgate.controller.domain_errors), never HTTP ones.

Which engine: `KITGATE_DATABASE_URL=postgresql://…` selects PostgreSQL; unset, the SQLite file in the
data dir (the embedded default `make demo` uses). `open_backend` is the only place that decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from kitgate.controller.images import StoredImage
    from kitgate.controller.security.apikeys import ApiKeyRecord
    from kitgate.controller.security.audit import ChainReport
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.security.principal import Principal
    from kitgate.controller.security.tokens import TokenRecord
    from kitgate.controller.settings import Settings
    from kitgate.controller.store import JobRecord, NewJob

# sign(job, worker_id, attempt) -> (envelope, claim_id): pure crypto, called inside the claim transaction
Signer = Callable[["JobRecord", str, int], tuple[str, str]]
# is "<kind>:<id>" a credential that would still be accepted (not revoked, expired or deleted)?
CredentialCheck = Callable[[str], Awaitable[bool]]

EngineKind = Literal["sqlite", "postgres"]


class JobStoreApi(Protocol):
    """Every job and worker state transition (kitgate.controller.store.JobStore documents each one)."""

    clock: Callable[[], float]
    credential_live: CredentialCheck  # set by the security layer once it has started

    # reads
    async def get(self, job_id: str) -> JobRecord | None: ...
    async def find_idempotent(self, owner: str, key: str) -> JobRecord | None: ...
    async def list(self, owner: str | None, limit: int, before_seq: int | None = None, status: str | None = None,
                   policy: str | None = None) -> list[JobRecord]: ...
    async def last(self, owner: str | None) -> JobRecord | None: ...
    async def ping(self) -> bool: ...
    async def counts(self) -> dict[str, int]: ...
    async def workers(self) -> list[dict[str, Any]]: ...
    async def queue_position(self, job: JobRecord) -> int: ...
    async def live_workers(self, seen_within_s: float) -> list[dict[str, Any]]: ...
    async def worker_stage(self, worker_id: str) -> str | None: ...
    async def worker_credential(self, worker_id: str) -> str | None: ...
    async def has_claimable(self, labels: Iterable[str], policies: frozenset[str] | None = None) -> bool: ...
    async def count_awaiting_approval(self, labels: Iterable[str], policies: frozenset[str] | None,
                                      cap: int) -> int: ...

    # writes
    async def create(self, job: NewJob) -> tuple[JobRecord, bool]:
        """(job, created). An idempotency key this owner already used returns that job with created=False,
        never an error, however many callers race (PostgreSQL: INSERT … ON CONFLICT DO NOTHING RETURNING)."""
    async def claim(self, worker_id: str, labels: Iterable[str], sign: Signer, claimed_by: str | None = None,
                    policies: frozenset[str] | None = None,
                    stage: str | None = None) -> tuple[JobRecord, str] | None:
        """The oldest queued job this worker may run, or None. PostgreSQL: FOR UPDATE SKIP LOCKED, so
        concurrent claimers never wait on each other and never take the same job."""
    async def report(self, job_id: str, worker_id: str | None, claim_id: str | None, result: dict[str, Any],
                     reporter: str | None = None) -> tuple[JobRecord, bool]:
        """(job, requeued); the row is locked, so a second report of the same claim is AlreadyReported."""
    async def heartbeat(self, worker_id: str, job_id: str | None, claim_id: str | None, stage: str | None,
                        state: str | None, reporter: str | None = None) -> bool: ...
    async def bind_worker(self, worker_id: str, credential: str) -> str | None: ...
    async def release_worker(self, worker_id: str) -> str | None: ...
    async def cancel(self, job_id: str) -> JobRecord:
        """Conditional: only a queued or pending job becomes cancelled; a claim that won the race wins."""
    async def approve(self, job_id: str) -> JobRecord: ...
    async def reject(self, job_id: str, reason: str) -> JobRecord: ...
    async def mark_lost(self, timeout_s: float) -> list[JobRecord]:
        """Running jobs whose heartbeat is older than `timeout_s` become lost. Also records that a controller
        was alive now (the restart-grace clock, see `recover_after_restart`)."""
    async def purge_finished(self, before: float, limit: int) -> int: ...
    async def recover_after_restart(self, interval_s: float = 1.0) -> float:
        """Restart grace without amnesty: credit running jobs' heartbeats with the time NO controller was
        alive. gap = now - the last `mark_lost`; when gap > 2 * `interval_s` (the sweep interval), every
        running job's heartbeat_at becomes min(heartbeat_at + gap, now), and the clock is stamped now, so
        the same outage is never credited twice. Returns the seconds credited (0.0 when another replica was
        alive). A crash-looping replica credits only its downtime, never a fresh full window per restart."""


class ImageStoreApi(Protocol):
    async def put(self, job_id: str, png: bytes, width: int, height: int, sha256: str) -> None: ...
    async def get(self, job_id: str) -> StoredImage | None: ...


class TokenStoreApi(Protocol):
    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int, policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, TokenRecord]: ...
    async def verify(self, token: str) -> tuple[Principal, TokenRecord]: ...
    async def get(self, jti: str) -> TokenRecord | None: ...
    async def list(self) -> list[TokenRecord]: ...
    async def revoke(self, jti: str) -> bool: ...
    async def has_admin(self) -> bool: ...


class ApiKeyStoreApi(Protocol):
    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int | None = None,
                    policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, ApiKeyRecord]: ...
    async def verify(self, key: str) -> tuple[Principal, ApiKeyRecord]: ...
    async def get(self, key_id: str) -> ApiKeyRecord | None: ...
    async def list(self) -> list[ApiKeyRecord]: ...
    async def revoke(self, key_id: str) -> bool: ...


class AuditApi(Protocol):
    """The hash-chained trail. `record` writes inside the caller's unit (same commit as the change)."""

    async def record(self, event: str, *, actor: str | None = None, ip: str | None = None,
                     request_id: str | None = None, **fields: Any) -> None: ...
    async def head(self) -> dict[str, Any]: ...
    async def query(self, *, event: str | None = None, actor: str | None = None, request_id: str | None = None,
                    since_seq: int = 0, since_ts: float | None = None, limit: int = 100) -> list[dict[str, Any]]: ...
    async def for_job(self, job_id: str, limit: int = 200) -> list[dict[str, Any]]: ...
    async def verify_chain(self, expect_head: tuple[int, str] | None = None) -> ChainReport: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class SchemaStatus:
    """What /readyz and the start-up check report: the schema this database has and the one this code needs."""

    engine: EngineKind
    current: int
    expected: int

    @property
    def ok(self) -> bool:
        return self.current == self.expected


class Wakeups(Protocol):
    """Cross-replica wake-ups (PostgreSQL LISTEN/NOTIFY). SQLite has none: one controller per file."""

    def queue_changed(self) -> None:
        """A job became claimable here: tell the other replicas (after commit, coalesced)."""
    def job_finished(self, job_id: str) -> None:
        """A job reached a terminal state here: tell the other replicas' `wait_s` callers."""
    async def run(self, on_queue: Callable[[], None], on_job: Callable[[str], None]) -> None:
        """Listen until cancelled; reconnects by itself when the database restarts."""


class Backend(Protocol):
    kind: EngineKind
    jobs: JobStoreApi
    images: ImageStoreApi
    audit: AuditApi
    wakeups: Wakeups | None  # None: in-process wake-ups are all there is (SQLite)

    async def start(self) -> None:
        """Open connections and check the schema. SQLite migrates itself (embedded); PostgreSQL refuses an
        unmigrated or newer schema with SchemaMismatch (one line: what it found, what to run)."""
    async def close(self) -> None: ...
    def unit(self) -> AbstractAsyncContextManager[None]: ...
    def after_commit(self, fn: Callable[[], None]) -> None: ...
    async def ping(self) -> bool:
        """True when the database answers a read now; never raises."""
    async def schema_status(self) -> SchemaStatus: ...
    def leader(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Yields True on the one replica that holds the advisory lock `name` now (SQLite: always True).
        Never blocks: a replica that does not get it skips that round."""
    def token_store(self, keys: KeyRing, issuer: str, audience: str) -> TokenStoreApi: ...
    def apikey_store(self) -> ApiKeyStoreApi: ...


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code was written for; the message is one line."""


def open_backend(settings: Settings) -> Backend:
    """The backend `settings` name: PostgreSQL for KITGATE_DATABASE_URL, else the data dir's SQLite file."""
    url = getattr(settings, "database_url", None)
    if url:
        from kitgate.controller.pg.backend import PgBackend

        return PgBackend(settings)
    from kitgate.controller.sqlite_backend import SqliteBackend

    return SqliteBackend(settings)

