"""Versioned plain-SQL migrations for the PostgreSQL store, applied once by `kitgate db migrate`.

Why plain SQL files and a table of checksums: an operator (or a DBA) can read exactly what will run, and a
file edited after it was applied somewhere is caught instead of silently diverging between deployments.
Files are `migrations/NNNN_name.sql`, numbered 1, 2, 3… without gaps; each is applied in its own
transaction together with its row in `kitgate_schema_migrations`. Two `kitgate db migrate` runs at once
take turns under an advisory lock whose key is derived from the schema, so deployments that share one
database in different schemas never wait on each other. Replicas never migrate: they compare `status`
with the files they ship and refuse to start on a mismatch (PgBackend.start).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import tuple_row

TABLE = "kitgate_schema_migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_NAME = "kitgate_db_migrate"
# the lock key: a 64-bit hash of "<schema>:<name>" (current_schema() is NULL when the search_path names none)
LOCK_KEY_SQL = "hashtextextended(coalesce(current_schema(), '') || ':' || %s, 0)"


class MigrationError(RuntimeError):
    """The migrations cannot be applied as they are (changed after applying, a gap, a newer database)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file name, e.g. 0001_core.sql
    sql: str
    checksum: str  # sha256 of the file's bytes


def migrations() -> list[Migration]:
    """The migration files shipped in this package, in version order (1..N without gaps)."""
    folder = resources.files("kitgate.controller.pg") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        data = entry.read_bytes()
        found.append(Migration(int(match.group(1)), entry.name, data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration files must be numbered 1..N without gaps: {migration.name} is not "
                                 f"{expected:04d}")
    return found


EXPECTED = len(migrations())  # the schema version this code needs


async def _recorded(conn: psycopg.AsyncConnection[Any]) -> dict[int, tuple[str, str]] | None:
    """version -> (name, checksum) as recorded; None when the table does not exist (a fresh schema)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
        row = await cur.fetchone()
        if row is None or not row[0]:
            return None
        await cur.execute(f"SELECT version, name, checksum FROM {TABLE} ORDER BY version")  # noqa: S608
        return {int(v): (str(n), str(c)) for v, n, c in await cur.fetchall()}


async def status(conn: psycopg.AsyncConnection[Any]) -> tuple[int, int]:
    """(current, expected): the highest version recorded in the database (0: none) and the one this code needs.

    Reads on `conn` (any row factory); inside a transaction it joins it."""
    recorded = await _recorded(conn)
    return (max(recorded) if recorded else 0), EXPECTED


async def apply(conninfo: str) -> list[str]:
    """Apply every migration the database lacks, in order; returns the file names applied (empty: up to date).

    MigrationError when an applied file has changed since (its checksum differs), or when the database is
    at a newer version than this code knows."""
    files = migrations()
    applied: list[str] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        await conn.execute(f"SELECT pg_advisory_lock({LOCK_KEY_SQL})", (_LOCK_NAME,))  # noqa: S608
        try:
            async with conn.transaction():
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (version integer PRIMARY KEY, name text NOT NULL,"
                    " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
            recorded = await _recorded(conn) or {}
            newer = [v for v in recorded if v > len(files)]
            if newer:
                raise MigrationError(f"the database schema is newer than this kitgate ({max(newer)} > {len(files)}):"
                                     " upgrade kitgate")
            for migration in files:
                seen = recorded.get(migration.version)
                if seen is not None:
                    if seen[1] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.name} was changed after it was applied (checksum "
                            f"{migration.checksum[:12]}… differs from the recorded {seen[1][:12]}…); restore the "
                            "released file, and put new changes in a new migration")
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql.encode("utf-8"))  # no parameters: several statements
                    await conn.execute(f"INSERT INTO {TABLE}(version, name, checksum) VALUES(%s, %s, %s)",  # noqa: S608
                                       (migration.version, migration.name, migration.checksum))
                applied.append(migration.name)
        finally:
            if not conn.closed:
                await conn.execute(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})", (_LOCK_NAME,))  # noqa: S608
    return applied
