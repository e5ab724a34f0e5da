"""One store contract, two engines: every test here runs against SQLite and against a real PostgreSQL.

Why one suite: the service only sees backend.py's protocols, so whatever it may rely on must hold on both
engines. A test gets an `engine`; `engine.replica(name)` opens a Backend the way a controller does
(backend.open_backend): on SQLite every replica is the same data dir's file, on PostgreSQL each replica has
its own pool on one freshly migrated schema (the conftest's `pg_url`), so races between "replicas" are real
races between database sessions. Concurrency runs in one event loop with asyncio.gather.
The `engine` fixture itself is in conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitgate.controller.backend import Backend, open_backend
from kitgate.controller.settings import Settings
from kitgate.controller.store import NewJob

ENGINES = ["sqlite", "postgres"]


class Clock:
    """The store's clock, moved by the test (both replicas of a test share one)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Engine:
    kind: str
    tmp: Path
    keys_dir: Path
    url: str | None = None
    clock: Clock = field(default_factory=Clock)
    _migrated: bool = False

    def settings(self, name: str) -> Settings:
        if self.url is None:  # one controller per SQLite file: every "replica" opens the same one
            return Settings(data_dir=self.tmp / "data", keys_dir=self.keys_dir)
        return Settings(data_dir=self.tmp / name, database_url=self.url, keys_dir=self.keys_dir)

    async def migrate(self) -> None:
        if self.url is not None and not self._migrated:
            from kitgate.controller.pg import migrate

            await migrate.apply(self.url)
            self._migrated = True

    @asynccontextmanager
    async def replica(self, name: str = "a", *, clock: Callable[[], float] | None = None) -> AsyncIterator[Backend]:
        await self.migrate()
        backend = open_backend(self.settings(name))
        backend.jobs.clock = clock or self.clock
        await backend.start()
        try:
            yield backend
        finally:
            await backend.close()

    def run(self, body: Callable[[], Awaitable[None]]) -> None:
        asyncio.run(_run(body))


async def _run(body: Callable[[], Awaitable[None]]) -> None:
    await body()


def new_job(owner: str = "alice", labels: list[str] | None = None, key: str | None = None, code: str = "x = 1",
            approval: bool = False, retries: int = 1, policy: str = "scene-edit") -> NewJob:
    return NewJob(owner=owner, policy=policy, policy_digest="sha256:abc", code=code, code_sha256="c" * 64,
                  labels=labels or [], timeout_s=5.0, limits={"timeout_s": 5, "b": [1, 2], "a": None},
                  max_retries=retries, requires_approval=approval, idempotency_key=key)


def signer(calls: list[tuple[str, str, int]] | None = None) -> Callable[[Any, str, int], tuple[str, str]]:
    def sign(job: Any, worker: str, attempt: int) -> tuple[str, str]:
        if calls is not None:
            calls.append((job.id, worker, attempt))
        return f"env.{job.id}.{attempt}", f"claim-{job.id}-{attempt}"
    return sign


def ok_result(worker: str, claim: str | None, status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    return {"status": status, "worker_id": worker, "claim_id": claim, "stdout": "hi", "timings": {}, **extra}
