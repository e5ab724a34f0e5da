"""PostgreSQL only: versioned migrations (checksums, one runner at a time) and the start-up schema check.

Replicas never migrate: they refuse an unmigrated or newer schema with one line that says what to run.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kitgate.controller.backend import SchemaMismatch
from kitgate.controller.pg import migrate
from kitgate.controller.pg.backend import PgBackend
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.settings import Settings


def _backend(url: str, tmp_path: Path, name: str = "a") -> PgBackend:
    keys_dir = tmp_path / "keys"
    KeyRing(keys_dir).load(create=True)
    return PgBackend(Settings(data_dir=tmp_path / name, database_url=url, keys_dir=keys_dir))


def _execute(url: str, sql: str, *args: object) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode(), args)


@pytest.fixture
def other_schema_url(pg_database: str) -> Iterator[str]:
    """A second deployment's schema in the same database."""
    schema = f"t_{secrets.token_hex(6)}"
    _execute(pg_database, f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_database}?options=-csearch_path%3D{schema}"
    finally:
        _execute(pg_database, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_replica_refuses_an_unmigrated_schema_with_one_line(pg_url: str, tmp_path: Path) -> None:
    async def body() -> None:
        with pytest.raises(SchemaMismatch) as refused:
            await _backend(pg_url, tmp_path).start()
        expected = migrate.EXPECTED
        assert str(refused.value) == (f"database schema is at version 0, this kitgate needs {expected}: "
                                      "run `kitgate db migrate`")
        assert await migrate.apply(pg_url) == [m.name for m in migrate.migrations()]
        assert await migrate.apply(pg_url) == []  # idempotent
        backend = _backend(pg_url, tmp_path)
        await backend.start()
        status = await backend.schema_status()
        assert (status.current, status.expected, status.ok) == (expected, expected, True)
        await backend.close()
        assert await backend.ping() is False  # closed: never raises

    asyncio.run(body())


def test_a_replica_refuses_a_newer_schema_and_migrate_refuses_it_too(pg_url: str, tmp_path: Path) -> None:
    async def body() -> None:
        await migrate.apply(pg_url)
        newer = migrate.EXPECTED + 1
        _execute(pg_url, f"INSERT INTO {migrate.TABLE}(version, name, checksum) VALUES(%s, 'future.sql', 'x')", newer)
        with pytest.raises(SchemaMismatch) as refused:
            await _backend(pg_url, tmp_path).start()
        assert str(refused.value) == (f"database schema is newer than this kitgate ({newer} > {migrate.EXPECTED}): "
                                      "upgrade kitgate")
        with pytest.raises(migrate.MigrationError, match="newer than this kitgate"):
            await migrate.apply(pg_url)

    asyncio.run(body())


def test_a_migration_changed_after_it_was_applied_is_refused(pg_url: str) -> None:
    async def body() -> None:
        await migrate.apply(pg_url)
        _execute(pg_url, f"UPDATE {migrate.TABLE} SET checksum='0000' WHERE version=1")
        with pytest.raises(migrate.MigrationError) as refused:
            await migrate.apply(pg_url)
        assert "0001_core.sql was changed after it was applied" in str(refused.value)

    asyncio.run(body())


def test_concurrent_migrate_runs_apply_each_file_once(pg_url: str) -> None:
    async def body() -> None:
        runs = await asyncio.gather(*(migrate.apply(pg_url) for _ in range(4)))
        applied = [name for run in runs for name in run]
        assert sorted(applied) == sorted(m.name for m in migrate.migrations())  # once each, whoever ran it
        with psycopg.connect(pg_url) as conn:
            rows = conn.execute(f"SELECT version, checksum FROM {migrate.TABLE} ORDER BY version").fetchall()
        assert rows == [(m.version, m.checksum) for m in migrate.migrations()]

    asyncio.run(body())


def test_two_deployments_in_one_database_never_share_a_leader_lock(pg_url: str, other_schema_url: str,
                                                                   tmp_path: Path) -> None:
    async def body() -> None:
        await migrate.apply(pg_url)
        await migrate.apply(other_schema_url)
        one, other = _backend(pg_url, tmp_path, "one"), _backend(other_schema_url, tmp_path, "other")
        await one.start()
        await other.start()
        try:
            async with one.leader("sweeper") as lead_one, other.leader("sweeper") as lead_other:
                assert lead_one and lead_other  # the lock key is derived from each one's schema
        finally:
            await one.close()
            await other.close()

    asyncio.run(body())


def test_a_replica_recovers_when_its_database_sessions_are_killed(pg_url: str, tmp_path: Path) -> None:
    """What a PostgreSQL restart does to a pool: every session it holds is gone. The pool checks a connection
    before handing it out, so the next call gets a fresh one; the replica itself is not restarted."""
    async def body() -> None:
        await migrate.apply(pg_url)
        backend = _backend(pg_url, tmp_path)
        await backend.start()
        try:
            await backend.jobs.counts()
            pids = set()
            async with backend.unit(), backend.connection() as conn:  # more than one pooled session in use
                pids.add(conn.info.backend_pid)
                async with backend.pool.connection() as second:
                    pids.add(second.info.backend_pid)
            assert len(pids) == 2
            with psycopg.connect(pg_url, autocommit=True) as admin:
                for pid in sorted(pids):  # only this test's own sessions, one by one
                    assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            assert await backend.jobs.counts() == {} and await backend.ping()
            async with backend.leader("sweeper") as lead:
                assert lead
            async with backend.pool.connection() as conn:
                assert conn.info.backend_pid not in pids
        finally:
            await backend.close()

    asyncio.run(body())
