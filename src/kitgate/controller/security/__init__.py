"""Identity, limits and evidence: tokens, scopes, IP allow-lists, rate limits, envelope signing, audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitgate.controller.security.layer import SecurityLayer
    from kitgate.controller.security.principal import SCOPES, Principal

__all__ = ["SCOPES", "Principal", "SecurityLayer", "create_token"]
_LAZY = {"SecurityLayer": "layer", "SCOPES": "principal", "Principal": "principal"}


def __getattr__(name: str) -> Any:
    """Import the HTTP-facing layer on first use only: the job store imports `security.jsonshape`, and
    that must not drag FastAPI and Starlette in with it (the store knows nothing of HTTP)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
