"""How the offline CLI commands reach durable state: the configured store and the key dir, opened once.

Why one module: `token`, `apikey`, `keys`, `audit verify`, `init` and `db` must agree on which store they
talk to (the data dir's SQLite file, or the shared PostgreSQL of KITGATE_DATABASE_URL, from any machine),
on which key dir they read (KITGATE_KEYS_DIR) and on the one-line errors a person sees when either is
missing, unmigrated or unreadable. They go through `backend.open_backend` like the controller does, so a
credential made here is the same row a replica checks on its next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer

if TYPE_CHECKING:
    from kitgate.controller.backend import ApiKeyStoreApi, AuditApi, Backend, TokenStoreApi
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.settings import Settings

T = TypeVar("T")
EXIT_CONFIG = 2


def fail(line: str, code: int = EXIT_CONFIG) -> typer.Exit:
    """Print one line on stderr; the caller raises what this returns."""
    typer.echo(f"kitgate: {line}", err=True)
    return typer.Exit(code)


def redact_url(url: str) -> str:
    """The database URL without its password (never printed, never logged)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe_store(settings: Settings) -> str:
    if settings.database_url:
        return f"PostgreSQL {redact_url(settings.database_url)}"
    return f"SQLite {settings.db_path}"


def load_settings(data_dir: Path | None) -> Settings:
    """KITGATE_* (and KITGATE_CONFIG) with --data-dir on top; a bad setting is one line, exit 2."""
    from kitgate.cli.server import settings_error_line
    from kitgate.controller.settings import Settings

    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise fail(settings_error_line(exc)) from None


def check_data_dir(settings: Settings, given: bool, create: bool) -> None:
    """SQLite only (the store lives there): a missing data dir is made (0700) when `create`, else refused."""
    how = "" if given else " (the default; pass --data-dir DIR or set KITGATE_DATA_DIR to use another)"
    if not settings.data_dir.exists():
        if not create:
            typer.echo(f"error: data dir {settings.data_dir} does not exist{how}; it is made by `kitgate serve`, "
                       "`kitgate init` or `kitgate token create`", err=True)
            raise typer.Exit(EXIT_CONFIG)
        settings.data_dir.mkdir(mode=0o700, parents=True)
        typer.echo(f"created data dir {settings.data_dir}{how}", err=True)
    elif not given:
        typer.echo(f"using data dir {settings.data_dir}{how}", err=True)


def open_keys(settings: Settings, create: bool) -> KeyRing:
    """The key dir. `create` (SQLite's embedded default, `kitgate init`): missing keys are made; otherwise
    a missing key is one line naming the dir and `kitgate init`."""
    from kitgate.controller.security.keys import KeyRing, KeysMissing

    keys = KeyRing(settings.keys_dir or settings.data_dir / "keys")
    try:
        keys.load(create=create)
    except KeysMissing as exc:
        raise fail(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise fail(f"key dir {keys.dir} (KITGATE_KEYS_DIR) cannot be read: {exc}") from None
    return keys


@dataclass
class Offline:
    """The parts of the controller's state a CLI command needs."""

    settings: Settings
    backend: Backend
    keys: KeyRing
    tokens: TokenStoreApi
    apikeys: ApiKeyStoreApi

    @property
    def audit(self) -> AuditApi:
        return self.backend.audit


async def start_backend(settings: Settings) -> Backend:
    """Open and check the configured store; an unmigrated or newer schema, or a store that does not answer,
    is one line (exit 2)."""
    from kitgate.controller.backend import SchemaMismatch, open_backend
    from kitgate.controller.security.keys import KeysMissing

    backend = open_backend(settings)
    try:
        await backend.start()
    except (SchemaMismatch, KeysMissing) as exc:  # PostgreSQL's audit checkpoints need the shared keys
        await _close_quietly(backend)
        raise fail(str(exc)) from None
    except OSError as exc:
        await _close_quietly(backend)
        raise fail(f"{describe_store(settings)} cannot be opened: {exc}") from None
    except Exception as exc:
        await _close_quietly(backend)
        if _is_db_error(exc):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise fail(f"{describe_store(settings)} does not answer: {first}") from None
        raise
    return backend


def _is_db_error(exc: BaseException) -> bool:
    """psycopg's and sqlite3's errors, without importing psycopg on the SQLite path."""
    module = type(exc).__module__ or ""
    return module.startswith(("psycopg", "sqlite3", "psycopg_pool"))


async def _close_quietly(backend: Backend) -> None:
    with contextlib.suppress(Exception):  # already failing; the first error is the one worth showing
        await backend.close()


@asynccontextmanager
async def opened(data_dir: Path | None, *, create: bool = False) -> AsyncIterator[Offline]:
    """The configured store and key dir for one command. `create` (credential creation on SQLite): a
    missing data dir and missing keys are made, so credentials can be minted before the first serve.
    On PostgreSQL nothing is created here: `kitgate init` made the keys, `kitgate db migrate` the schema."""
    from kitgate.cli.extras import require

    require("server", command="token|apikey|keys|audit verify|init|db")
    settings = load_settings(data_dir)
    sqlite = not settings.database_url
    if sqlite:
        check_data_dir(settings, given=data_dir is not None, create=create)
    keys = open_keys(settings, create=sqlite)
    backend = await start_backend(settings)
    try:
        yield Offline(settings, backend, keys,
                      backend.token_store(keys, settings.token_issuer, settings.token_audience),
                      backend.apikey_store())
    finally:
        await backend.close()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine to completion, also from a thread that already runs an event loop
    (an async test calling `create_token`): then on a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="kitgate-offline")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
