"""Identity, limits and evidence: tokens, scopes, IP allow-lists, rate limits, envelope signing, audit."""

from __future__ import annotations

from pathlib import Path

from kitgate.controller.security.layer import SecurityLayer
from kitgate.controller.security.principal import SCOPES, Principal

__all__ = ["SCOPES", "Principal", "SecurityLayer", "create_token"]


def create_token(
    data_dir: Path,
    scopes: list[str],
    *,
    sub: str | None = None,
    policies: list[str] | None = None,
    cidrs: list[str] | None = None,
    ttl_s: int | None = None,
) -> str:
    """Mint a token offline against a data dir (the CLI and the test harness use this)."""
    from kitgate.controller.db import Database
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.security.tokens import TokenStore
    from kitgate.controller.settings import Settings

    settings = Settings(data_dir=Path(data_dir))
    db = Database(settings.db_path)
    try:
        keys = KeyRing(settings.data_dir)
        keys.load(create=True)
        store = TokenStore(db, keys, settings.token_issuer, settings.token_audience)
        token, _ = store.issue(sub or "-".join(sorted(scopes)).replace(":", "_"), scopes,
                               ttl_s=ttl_s or settings.default_token_ttl_s, policies=policies, cidrs=cidrs)
        return token
    finally:
        db.close()
