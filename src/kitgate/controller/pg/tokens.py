"""Bearer tokens with their records on PostgreSQL: the SQLite TokenStore's checks, shared, not copied.

Why the split: the JWT itself (signature, algorithm, claims, cache) and the record checks are pure and live
in kitgate.controller.security.tokens (TokenCodec, principal_for); only reading and writing the `tokens`
rows differs per engine. So a token minted by one replica verifies on every other with the same keys dir.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kitgate.controller.security.tokens import (
    INSERT_COLUMNS,
    TokenCodec,
    TokenRecord,
    grants_admin,
    insert_values,
    principal_for,
    record_from_row,
)

if TYPE_CHECKING:
    from kitgate.controller.pg.backend import PgBackend
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.security.principal import Principal


class PgTokenStore:
    """backend.TokenStoreApi on PostgreSQL."""

    def __init__(self, backend: PgBackend, keys: KeyRing, issuer: str, audience: str) -> None:
        self.backend = backend
        self.codec = TokenCodec(keys, issuer, audience)

    async def issue(self, sub: str, scopes: list[str], *, ttl_s: int, policies: list[str] | None = None,
                    cidrs: list[str] | None = None) -> tuple[str, TokenRecord]:
        now = time.time()
        token, jti = self.codec.mint(sub, scopes, ttl_s, now)
        async with self.backend.transaction() as conn:
            cur = await conn.execute(
                f"INSERT INTO tokens({INSERT_COLUMNS}) VALUES(%s,%s,%s,%s,%s,%s,%s,%s) RETURNING *".encode(),  # noqa: S608
                insert_values(jti, sub, scopes, policies, cidrs, now, ttl_s))
            row = await cur.fetchone()
        assert row is not None
        return token, record_from_row(row)

    async def verify(self, token: str) -> tuple[Principal, TokenRecord]:
        """Signature and claims (cached per token string), then the stored record on every call."""
        claims = self.codec.claims(token)
        record = await self.get(str(claims["jti"]))
        principal = principal_for(claims, record, time.time())
        assert record is not None  # principal_for refused a missing one
        return principal, record

    async def get(self, jti: str) -> TokenRecord | None:
        row = await self.backend.fetchone("SELECT * FROM tokens WHERE jti=%s", (jti,))
        return record_from_row(row) if row else None

    async def list(self) -> list[TokenRecord]:
        rows = await self.backend.fetchall("SELECT * FROM tokens ORDER BY created_at")
        return [record_from_row(r) for r in rows]

    async def revoke(self, jti: str) -> bool:
        async with self.backend.transaction() as conn:
            cur = await conn.execute("UPDATE tokens SET revoked_at=%s WHERE jti=%s AND revoked_at IS NULL",
                                     (time.time(), jti))
            return cur.rowcount == 1

    async def has_admin(self) -> bool:
        rows = await self.backend.fetchall(
            "SELECT scopes FROM tokens WHERE revoked_at IS NULL AND expires_at > %s", (time.time(),))
        return grants_admin([r["scopes"] for r in rows])
