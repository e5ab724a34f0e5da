"""SecurityLayer.startup on each engine: what it may create, and what it must leave to `kitgate init`.

Why: the embedded SQLite default (`make demo`) must keep creating its keys and first admin token by itself,
while replicas on a shared PostgreSQL must never mint keys of their own (tokens signed by one would fail
on the others) nor a second admin token: they stop with one line naming the keys dir and `kitgate init`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kitgate.controller.backend import open_backend
from kitgate.controller.security.keys import PURPOSES, KeyRing, KeysMissing
from kitgate.controller.security.layer import ADMIN_TOKEN_FILE, SecurityLayer
from kitgate.controller.settings import Settings


def test_sqlite_startup_creates_the_keys_and_one_admin_token(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    async def start_once() -> tuple[int, list[str]]:
        backend = open_backend(settings)
        await backend.start()
        layer = SecurityLayer(settings, backend)
        try:
            await layer.startup()
            assert layer.tokens is not None
            token = (settings.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
            principal, _ = await layer.tokens.verify(token)
            assert "admin" in principal.scopes
            admins = [t.jti for t in await layer.tokens.list() if "admin" in t.scopes]
            events = [r["event"] for r in await backend.audit.query(event="token.created")]
            return len(admins), events
        finally:
            await backend.close()

    first = asyncio.run(start_once())
    assert settings.keys_dir is not None
    key_files = sorted(p.name for p in settings.keys_dir.glob("*.pem"))
    second = asyncio.run(start_once())  # a restart: the same keys, no second admin token
    assert first == (1, ["token.created"])
    assert second == first
    assert sorted(p.name for p in settings.keys_dir.glob("*.pem")) == key_files
    assert {name.split("-")[0] for name in key_files} == set(PURPOSES)  # one key per purpose


def test_postgres_startup_creates_no_keys_and_no_token(tmp_path: Path, pg_url: str) -> None:
    from kitgate.controller.pg import migrate

    keys_dir = tmp_path / "keys"
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, keys_dir=keys_dir)

    async def start(expect_missing: bool) -> list[str]:
        backend = open_backend(settings)
        layer = SecurityLayer(settings, backend)
        try:
            if expect_missing:  # the store or the layer may be the one to find the keys missing
                with pytest.raises(KeysMissing) as refused:
                    await backend.start()
                    await layer.startup()
                line = str(refused.value)
                assert "\n" not in line and "kitgate init" in line and str(keys_dir) in line
                return []
            await backend.start()
            await layer.startup()
            tokens = backend.token_store(KeyRing(keys_dir), settings.token_issuer, settings.token_audience)
            return [t.sub for t in await tokens.list()]
        finally:
            await backend.close()

    asyncio.run(migrate.apply(pg_url))
    assert asyncio.run(start(expect_missing=True)) == []
    assert not keys_dir.exists(), "a replica created a key dir of its own"
    assert not (settings.data_dir / ADMIN_TOKEN_FILE).exists()
    KeyRing(keys_dir).load(create=True)  # what `kitgate init` does once
    assert asyncio.run(start(expect_missing=False)) == [], "a replica minted an admin token"
    assert not (settings.data_dir / ADMIN_TOKEN_FILE).exists()


def test_a_rate_limit_state_change_is_audited(tmp_path: Path) -> None:
    """The rate limiter's on_change (Redis lost / back) lands in the audit trail as `ratelimit.<state>`."""
    settings = Settings(data_dir=tmp_path / "data")

    async def body() -> list[tuple[str, str | None, object]]:
        backend = open_backend(settings)
        await backend.start()
        layer = SecurityLayer(settings, backend)
        try:
            await layer.startup()
            assert layer.rates.on_change is not None
            await layer.rates.on_change("degraded", "redis did not answer within 0.2 s")
            await layer.rates.on_change("restored", "redis answers again")
            rows = await backend.audit.query(since_seq=0)
            return [(r["event"], r["actor"], r["data"].get("detail")) for r in rows
                    if r["event"].startswith("ratelimit.")]
        finally:
            await backend.close()

    assert asyncio.run(body()) == [
        ("ratelimit.degraded", "controller", "redis did not answer within 0.2 s"),
        ("ratelimit.restored", "controller", "redis answers again"),
    ]
