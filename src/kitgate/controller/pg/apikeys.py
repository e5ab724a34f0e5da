"""Static API keys on PostgreSQL: the SQLite ApiKeyStore's checks, shared, not copied.

Why the split: the key's shape, its digest and the constant-time comparison are pure and live in
kitgate.controller.security.apikeys (new_key, key_id_of, principal_for); only the `apikeys` rows are
read and written here, so a key issued through one replica works on every other.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kitgate.controller.security.apikeys import (
    INSERT_COLUMNS,
    ApiKeyRecord,
    key_id_of,
    new_key,
    principal_for,
    record_from_row,
)

if TYPE_CHECKING:
    from kitgate.controller.pg.backend import PgBackend
    from kitgate.controller.security.principal import Principal


class PgApiKeyStore:
    """backend.ApiKeyStoreApi on PostgreSQL."""

    def __init__(self, backend: PgBackend) -> None:
        self.backend = backend

    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int | None = None,
                    policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, ApiKeyRecord]:
        key, _key_id, values = new_key(sub, scopes, ttl_s=ttl_s, policies=policies, cidrs=cidrs, now=time.time())
        async with self.backend.transaction() as conn:
            cur = await conn.execute(
                f"INSERT INTO apikeys({INSERT_COLUMNS}) VALUES(%s,%s,%s,%s,%s,%s,%s,%s) RETURNING *".encode(),  # noqa: S608
                values)
            row = await cur.fetchone()
        assert row is not None
        return key, record_from_row(row)

    async def verify(self, key: str) -> tuple[Principal, ApiKeyRecord]:
        key_id = key_id_of(key)
        row = await self.backend.fetchone("SELECT * FROM apikeys WHERE id=%s", (key_id,))
        return principal_for(key, row, time.time())

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        row = await self.backend.fetchone("SELECT * FROM apikeys WHERE id=%s", (key_id,))
        return record_from_row(row) if row else None

    async def list(self) -> list[ApiKeyRecord]:
        rows = await self.backend.fetchall("SELECT * FROM apikeys ORDER BY created_at")
        return [record_from_row(r) for r in rows]

    async def revoke(self, key_id: str) -> bool:
        async with self.backend.transaction() as conn:
            cur = await conn.execute("UPDATE apikeys SET revoked_at=%s WHERE id=%s AND revoked_at IS NULL",
                                     (time.time(), key_id))
            return cur.rowcount == 1
