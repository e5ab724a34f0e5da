"""The SQLite engine behind the async store boundary (backend.py): the embedded default `make demo` uses.

Why adapters over the existing synchronous classes instead of a second implementation: every SQLite call
here is short and never waits on the network, so the adapters call the sync stores inline on the event
loop (no thread hop, which would cost more than the query), and the sync classes keep their own tests.

Why a lock on top of `Database.write()`: the sync database nests transactions per THREAD, and every task of
an event loop runs on one thread. Without more, a task whose unit of work suspends (an `await` that really
waits) would let another task's write join its open transaction, and a rollback of one would undo the other.
So every write goes through `SqliteBackend.unit()`: an `asyncio.Lock` per event loop, plus a context
variable naming the unit the current task is inside, so a nested unit joins instead of waiting for itself.
Reads made while ANOTHER task's unit is open wait for it to end first (the thread shares one connection,
which would otherwise show them that unit's uncommitted rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from kitgate.controller import images as images_mod
from kitgate.controller import store as store_mod
from kitgate.controller.backend import CredentialCheck, EngineKind, SchemaMismatch, SchemaStatus, Signer, Wakeups
from kitgate.controller.db import Database
from kitgate.controller.images import ImageStore, StoredImage
from kitgate.controller.security import apikeys as apikeys_mod
from kitgate.controller.security import audit as audit_mod
from kitgate.controller.security import tokens as tokens_mod
from kitgate.controller.security.apikeys import ApiKeyRecord, ApiKeyStore
from kitgate.controller.security.audit import AuditLog, ChainReport
from kitgate.controller.security.tokens import TokenRecord, TokenStore
from kitgate.controller.store import JobRecord, JobStore, NewJob

if TYPE_CHECKING:
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.security.principal import Principal
    from kitgate.controller.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

# component -> its DDL list: `Database.migrate` records len(DDL) per component in schema_components
COMPONENTS: dict[str, list[str]] = {
    "jobs": store_mod._DDL,  # noqa: SLF001 - the components' schemas, read to report the expected version
    "job_images": images_mod._DDL,  # noqa: SLF001
    "tokens": tokens_mod._DDL,  # noqa: SLF001
    "apikeys": apikeys_mod._DDL,  # noqa: SLF001
    "audit": audit_mod._DDL,  # noqa: SLF001
}


async def _every_credential_live(_credential: str) -> bool:
    """Until the security layer sets its own check (JobStore's default rule)."""
    return True


@dataclass
class _LoopState:
    """One event loop's write lock and the unit open on it (None: no unit open)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: object | None = None


class SqliteBackend:
    """backend.Backend over the data dir's SQLite file (one controller per file)."""

    kind: EngineKind = "sqlite"

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.db = Database(settings.db_path)  # SQLite-only code (tests, retention counts); never the service
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
        # which unit the current task is inside (an object per unit; None outside any)
        self._unit_var: contextvars.ContextVar[object | None] = contextvars.ContextVar(
            f"kitgate_sqlite_unit_{id(self)}", default=None)
        self._sync_jobs = JobStore(self.db, clock=clock, max_value_depth=settings.max_json_depth)
        self._sync_jobs.credential_live = self._credential_live_sync
        self._sync_images = ImageStore(self.db, clock=clock)
        self._sync_audit = AuditLog(self.db)  # migrates the audit table (as SecurityLayer's used to)
        self._sync_apikeys: ApiKeyStore | None = None
        self._sync_tokens: TokenStore | None = None  # the last token store handed out (records only here)
        self.jobs = SqliteJobStore(self, self._sync_jobs)
        self.images = SqliteImageStore(self, self._sync_images)
        self.audit = SqliteAudit(self, self._sync_audit)
        self.wakeups: Wakeups | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Embedded: bring every component's schema up to this code's (idempotent, one transaction). A file
        written by a NEWER kitgate (a component past this code's last step) is refused: SchemaMismatch."""
        async with self.unit():
            self._sync_jobs.migrate()
            self._sync_images.migrate()
            self.db.migrate("tokens", COMPONENTS["tokens"])
            self._apikeys_sync()  # migrates apikeys
            self.db.migrate("audit", COMPONENTS["audit"])
            rows = self.db.connection().execute("SELECT name, version FROM schema_components").fetchall()
        newer = sorted(f"{name} {version} > {len(COMPONENTS[name])}" for name, version in rows
                       if name in COMPONENTS and version > len(COMPONENTS[name]))
        if newer:
            raise SchemaMismatch(f"the SQLite file {self.db.path} was written by a newer kitgate ({', '.join(newer)}):"
                                 " run the kitgate version that wrote it")

    async def close(self) -> None:
        await self.audit.close()
        self.db.close()

    # ---- units of work ---------------------------------------------------------------------------
    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        return state

    def _joined(self, state: _LoopState) -> bool:
        """Is the current task inside the unit open on this loop? (A task copied from a unit's context after
        that unit ended holds a stale marker: it is not inside anything.)"""
        marker = self._unit_var.get()
        return marker is not None and marker is state.open

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """One IMMEDIATE transaction for everything awaited inside; a nested unit joins the outer one."""
        state = self._state()
        if self._joined(state):
            yield
            return
        async with state.lock:
            marker = object()
            token = self._unit_var.set(marker)
            state.open = marker
            try:
                with self.db.write():
                    yield
            finally:
                state.open = None
                self._unit_var.reset(token)

    async def _settled(self) -> None:
        """Before a read: wait out a unit another task holds open on this loop (its rows are uncommitted)."""
        state = self._state()
        if state.open is not None and not self._joined(state):
            async with state.lock:
                pass

    async def _write(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        async with self.unit():
            return fn(*args, **kwargs)

    async def _read(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        await self._settled()
        return fn(*args, **kwargs)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """After the current task's unit commits (dropped on rollback); outside a unit, now."""
        loop_state = self._states.get(asyncio.get_running_loop())
        if loop_state is not None and self._joined(loop_state):
            self.db.after_commit(fn)
        else:
            fn()

    @contextlib.asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        """One controller per SQLite file: it always leads."""
        yield True

    # ---- health --------------------------------------------------------------------------------
    async def ping(self) -> bool:
        try:
            await self._settled()
            self.db.connection().execute("SELECT 1").fetchall()
        except (sqlite3.Error, OSError):
            return False
        return True

    async def schema_status(self) -> SchemaStatus:
        """current: the sum of the recorded component versions; expected: the sum of this code's DDL steps."""
        expected = sum(len(ddl) for ddl in COMPONENTS.values())
        await self._settled()
        try:
            rows = self.db.connection().execute("SELECT name, version FROM schema_components").fetchall()
        except sqlite3.OperationalError:  # no table yet: nothing migrated
            rows = []
        versions = {row[0]: int(row[1]) for row in rows}
        current = sum(versions.get(name, 0) for name in COMPONENTS)
        return SchemaStatus("sqlite", current, expected)

    # ---- credentials ---------------------------------------------------------------------------
    def token_store(self, keys: KeyRing, issuer: str, audience: str) -> SqliteTokenStore:
        sync = TokenStore(self.db, keys, issuer, audience)
        self._sync_tokens = sync
        return SqliteTokenStore(self, sync)

    def apikey_store(self) -> SqliteApiKeyStore:
        return SqliteApiKeyStore(self, self._apikeys_sync())

    def _apikeys_sync(self) -> ApiKeyStore:
        if self._sync_apikeys is None:
            self._sync_apikeys = ApiKeyStore(self.db)
        return self._sync_apikeys

    def _credential_live_sync(self, credential: str) -> bool:
        """The sync JobStore's rule for a worker id's binding (the same as SecurityLayer.credential_live):
        "<kind>:<id>" is live when its record exists, is not revoked and has not expired."""
        kind, _, ident = credential.partition(":")
        now = time.time()
        if kind == "token":
            if self._sync_tokens is None:  # no security layer started: records are read all the same
                row = self.db.connection().execute(
                    "SELECT revoked_at, expires_at FROM tokens WHERE jti=?", (ident,)).fetchone()
                return row is not None and row[0] is None and row[1] > now
            token = self._sync_tokens.get(ident)
            return token is not None and token.revoked_at is None and token.expires_at > now
        if kind == "apikey":
            key = self._apikeys_sync().get(ident)
            return key is not None and key.revoked_at is None and (key.expires_at is None or key.expires_at > now)
        return False


class SqliteJobStore:
    """backend.JobStoreApi over store.JobStore: reads inline, writes inside a unit."""

    def __init__(self, backend: SqliteBackend, sync: JobStore) -> None:
        self._b = backend
        self.sync = sync
        # the protocol's async check, set by the security layer; the sync store uses the backend's sync rule
        self.credential_live: CredentialCheck = _every_credential_live

    @property
    def clock(self) -> Callable[[], float]:
        return self.sync.clock

    @clock.setter
    def clock(self, value: Callable[[], float]) -> None:
        self.sync.clock = value

    # reads
    async def get(self, job_id: str) -> JobRecord | None:
        return await self._b._read(self.sync.get, job_id)

    async def find_idempotent(self, owner: str, key: str) -> JobRecord | None:
        return await self._b._read(self.sync.find_idempotent, owner, key)

    async def list(self, owner: str | None, limit: int, before_seq: int | None = None, status: str | None = None,
                   policy: str | None = None) -> list[JobRecord]:
        return await self._b._read(self.sync.list, owner, limit, before_seq, status, policy)

    async def last(self, owner: str | None) -> JobRecord | None:
        return await self._b._read(self.sync.last, owner)

    async def ping(self) -> bool:
        try:
            return await self._b._read(self.sync.ping)
        except sqlite3.Error:
            return False

    async def counts(self) -> dict[str, int]:
        return await self._b._read(self.sync.counts)

    async def workers(self) -> list[dict[str, Any]]:
        return await self._b._read(self.sync.workers)

    async def queue_position(self, job: JobRecord) -> int:
        return await self._b._read(self.sync.queue_position, job)

    async def live_workers(self, seen_within_s: float) -> list[dict[str, Any]]:
        return await self._b._read(self.sync.live_workers, seen_within_s)

    async def worker_stage(self, worker_id: str) -> str | None:
        return await self._b._read(self.sync.worker_stage, worker_id)

    async def worker_credential(self, worker_id: str) -> str | None:
        return await self._b._read(self.sync.worker_credential, worker_id)

    async def has_claimable(self, labels: Iterable[str], policies: frozenset[str] | None = None) -> bool:
        return await self._b._read(self.sync.has_claimable, labels, policies)

    async def count_awaiting_approval(self, labels: Iterable[str], policies: frozenset[str] | None,
                                      cap: int) -> int:
        return await self._b._read(self.sync.count_awaiting_approval, labels, policies, cap)

    # writes
    async def create(self, job: NewJob) -> tuple[JobRecord, bool]:
        return await self._b._write(self.sync.create, job)

    async def claim(self, worker_id: str, labels: Iterable[str], sign: Signer, claimed_by: str | None = None,
                    policies: frozenset[str] | None = None,
                    stage: str | None = None) -> tuple[JobRecord, str] | None:
        return await self._b._write(self.sync.claim, worker_id, labels, sign, claimed_by, policies, stage)

    async def report(self, job_id: str, worker_id: str | None, claim_id: str | None, result: dict[str, Any],
                     reporter: str | None = None) -> tuple[JobRecord, bool]:
        return await self._b._write(self.sync.report, job_id, worker_id, claim_id, result, reporter)

    async def heartbeat(self, worker_id: str, job_id: str | None, claim_id: str | None, stage: str | None,
                        state: str | None, reporter: str | None = None) -> bool:
        return await self._b._write(self.sync.heartbeat, worker_id, job_id, claim_id, stage, state, reporter)

    async def bind_worker(self, worker_id: str, credential: str) -> str | None:
        return await self._b._write(self.sync.bind_worker, worker_id, credential)

    async def release_worker(self, worker_id: str) -> str | None:
        return await self._b._write(self.sync.release_worker, worker_id)

    async def cancel(self, job_id: str) -> JobRecord:
        return await self._b._write(self.sync.cancel, job_id)

    async def approve(self, job_id: str) -> JobRecord:
        return await self._b._write(self.sync.approve, job_id)

    async def reject(self, job_id: str, reason: str) -> JobRecord:
        return await self._b._write(self.sync.reject, job_id, reason)

    async def mark_lost(self, timeout_s: float) -> list[JobRecord]:
        return await self._b._write(self.sync.mark_lost, timeout_s)

    async def purge_finished(self, before: float, limit: int) -> int:
        return await self._b._write(self.sync.purge_finished, before, limit)

    async def recover_after_restart(self, interval_s: float = 1.0) -> float:
        return float(await self._b._write(self.sync.recover_after_restart, interval_s=interval_s))


class SqliteImageStore:
    def __init__(self, backend: SqliteBackend, sync: ImageStore) -> None:
        self._b = backend
        self.sync = sync

    async def put(self, job_id: str, png: bytes, width: int, height: int, sha256: str) -> None:
        await self._b._write(self.sync.put, job_id, png, width, height, sha256)

    async def get(self, job_id: str) -> StoredImage | None:
        return await self._b._read(self.sync.get, job_id)


class SqliteTokenStore:
    def __init__(self, backend: SqliteBackend, sync: TokenStore) -> None:
        self._b = backend
        self.sync = sync

    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int, policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, TokenRecord]:
        return await self._b._write(self.sync.issue, sub, scopes, ttl_s=ttl_s, policies=policies, cidrs=cidrs)

    async def verify(self, token: str) -> tuple[Principal, TokenRecord]:
        return await self._b._read(self.sync.verify, token)

    async def get(self, jti: str) -> TokenRecord | None:
        return await self._b._read(self.sync.get, jti)

    async def list(self) -> list[TokenRecord]:
        return await self._b._read(self.sync.list)

    async def revoke(self, jti: str) -> bool:
        return await self._b._write(self.sync.revoke, jti)

    async def has_admin(self) -> bool:
        return await self._b._read(self.sync.has_admin)


class SqliteApiKeyStore:
    def __init__(self, backend: SqliteBackend, sync: ApiKeyStore) -> None:
        self._b = backend
        self.sync = sync

    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int | None = None,
                    policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, ApiKeyRecord]:
        return await self._b._write(self.sync.issue, sub, scopes, ttl_s=ttl_s, policies=policies, cidrs=cidrs)

    async def verify(self, key: str) -> tuple[Principal, ApiKeyRecord]:
        return await self._b._read(self.sync.verify, key)

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        return await self._b._read(self.sync.get, key_id)

    async def list(self) -> list[ApiKeyRecord]:
        return await self._b._read(self.sync.list)

    async def revoke(self, key_id: str) -> bool:
        return await self._b._write(self.sync.revoke, key_id)


class SqliteAudit:
    """backend.AuditApi over security.audit.AuditLog: a record joins the caller's unit (same commit); the head
    anchor file moves after that commit (AuditLog registers it with Database.after_commit)."""

    def __init__(self, backend: SqliteBackend, sync: AuditLog) -> None:
        self._b = backend
        self.sync = sync

    async def record(self, event: str, *, actor: str | None = None, ip: str | None = None,
                     request_id: str | None = None, **fields: Any) -> None:
        await self._b._write(self.sync.record, event, actor=actor, ip=ip, request_id=request_id, **fields)

    async def head(self) -> dict[str, Any]:
        return await self._b._read(self.sync.head)

    async def query(self, *, event: str | None = None, actor: str | None = None, request_id: str | None = None,
                    since_seq: int = 0, since_ts: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return await self._b._read(self.sync.query, event=event, actor=actor, request_id=request_id,
                                   since_seq=since_seq, since_ts=since_ts, limit=limit)

    async def for_job(self, job_id: str, limit: int = 200) -> list[dict[str, Any]]:
        return await self._b._read(self.sync.for_job, job_id, limit)

    async def verify_chain(self, expect_head: tuple[int, str] | None = None) -> ChainReport:
        """O(records): read on a worker thread (its own connection, committed rows only), off the event loop."""
        return await asyncio.to_thread(self.sync.verify_chain, expect_head)

    async def close(self) -> None:
        self.sync.close()

