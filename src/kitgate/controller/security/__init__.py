"""Identity, limits and evidence: tokens, scopes, IP allow-lists, rate limits, envelope signing, audit."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitgate.controller.security.layer import SecurityLayer
    from kitgate.controller.security.principal import SCOPES, Principal
    from kitgate.controller.settings import Settings

__all__ = ["SCOPES", "Principal", "SecurityLayer", "create_token"]
_LAZY = {"SecurityLayer": "layer", "SCOPES": "principal", "Principal": "principal"}


def __getattr__(name: str) -> Any:
    """Import the HTTP-facing layer on first use only: the job store imports `security.jsonshape`, and
    that must not drag FastAPI and Starlette in with it (the store knows nothing of HTTP)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# the settings a minted token depends on, when given as KITGATE_* values (create_token's `env`)
_TOKEN_SETTINGS = ("database_url", "keys_dir", "token_issuer", "token_audience", "default_token_ttl_s")


def create_token(
    data_dir: Path,
    scopes: list[str],
    *,
    sub: str | None = None,
    policies: list[str] | None = None,
    cidrs: list[str] | None = None,
    ttl_s: int | None = None,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Mint a token offline (the test harness and the demo use this) in the store the controllers use.

    `settings` names that store and the key dir outright; else they come from `data_dir` plus the
    KITGATE_DATABASE_URL, KITGATE_KEYS_DIR, KITGATE_TOKEN_* values in `env` (a controller's environment)
    over the process's own. SQLite: the data dir's file, keys created when missing (as `kitgate serve`
    would). PostgreSQL: the shared store, which must be migrated, and keys made by `kitgate init`."""
    from kitgate.controller.settings import Settings

    if settings is None:
        given = {name: (env or {}).get(f"KITGATE_{name.upper()}") for name in _TOKEN_SETTINGS}
        settings = Settings(data_dir=Path(data_dir), **{k: v for k, v in given.items() if v})
    subject = sub or "-".join(sorted(scopes)).replace(":", "_")
    ttl = ttl_s or settings.default_token_ttl_s
    if settings.database_url:
        return _run(_issue_shared(settings, subject, scopes, ttl, policies, cidrs))
    from kitgate.controller.db import Database
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.security.tokens import TokenStore

    db = Database(settings.db_path)
    try:
        keys = KeyRing(settings.keys_dir or settings.data_dir / "keys")
        keys.load(create=True)
        store = TokenStore(db, keys, settings.token_issuer, settings.token_audience)
        token, _ = store.issue(subject, scopes, ttl_s=ttl, policies=policies, cidrs=cidrs)
        return token
    finally:
        db.close()


async def _issue_shared(settings: Settings, sub: str, scopes: list[str], ttl_s: int, policies: list[str] | None,
                        cidrs: list[str] | None) -> str:
    from kitgate.controller.backend import open_backend
    from kitgate.controller.security.keys import KeyRing

    keys = KeyRing(settings.keys_dir or settings.data_dir / "keys")
    keys.load(create=False)  # KeysMissing (a ValueError) names the dir and `kitgate init`
    backend = open_backend(settings)
    await backend.start()
    try:
        tokens = backend.token_store(keys, settings.token_issuer, settings.token_audience)
        token, _ = await tokens.issue(sub, scopes, ttl_s=ttl_s, policies=policies, cidrs=cidrs)
        return token
    finally:
        await backend.close()


def _run(coro: Coroutine[Any, Any, str]) -> str:
    """asyncio.run, also when called from inside a running loop (an async test): then on its own thread."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="kitgate-create-token") as pool:
        return pool.submit(asyncio.run, coro).result()
