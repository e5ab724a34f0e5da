"""`kitgate init`, `kitgate db migrate`, `kitgate db status`: bring a deployment's state into being, once.

Why commands of their own: several replicas must never race to create the signing keys or the first admin
token, and must never alter a shared schema while others serve from it. So on PostgreSQL the order is
explicit (docs/deploy.md): `kitgate db migrate` (versioned SQL under an advisory lock), then `kitgate
init` (keys into KITGATE_KEYS_DIR, one admin token into the shared store), then any number of `kitgate
serve`, which only read keys and refuse a schema that is not theirs. On SQLite, `kitgate serve` still does
all of it by itself (the embedded default `make demo` uses); these commands are there for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kitgate.cli.extras import require
from kitgate.cli.offline import check_data_dir, describe_store, fail, load_settings, run, start_backend

if TYPE_CHECKING:
    from kitgate.controller.backend import Backend, SchemaStatus
    from kitgate.controller.security.keys import KeyRing
    from kitgate.controller.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", envvar="KITGATE_DATA_DIR",
                                              help="data dir (SQLite file; where admin.token is written)")]
ADMIN_SCOPES = ["admin", "jobs:submit", "jobs:read"]
INIT_LOCK = "kitgate_init"


def _existing_purposes(keys_dir: Path) -> set[str]:
    """Purposes that already have a key file (read before init, to say what it created)."""
    from kitgate.controller.security.keys import PURPOSES

    if not keys_dir.is_dir():
        return set()
    return {p for p in PURPOSES if any(keys_dir.glob(f"{p}-*.pem"))}


async def _first_admin(settings: Settings, backend: Backend, keys: KeyRing) -> Path | None:
    """Issue the first admin token and write it to <data_dir>/admin.token (0600), unless the store already
    has an admin token. The file is written inside the unit, so a failed write leaves no token behind."""
    from kitgate.controller.security.layer import ADMIN_TOKEN_FILE, write_secret

    tokens = backend.token_store(keys, settings.token_issuer, settings.token_audience)
    admin_file = settings.data_dir / ADMIN_TOKEN_FILE
    async with backend.leader(INIT_LOCK) as lead:
        if not lead:
            raise fail("another `kitgate init` is running against this store; run this one again when it is done",
                       1)
        if await tokens.has_admin():
            return None
        if admin_file.exists():
            raise fail(f"{admin_file} exists but {describe_store(settings)} has no admin token: it belongs to "
                       "another store; move it away and run `kitgate init` again")
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        async with backend.unit():
            token, record = await tokens.issue("admin", list(ADMIN_SCOPES), ttl_s=settings.default_token_ttl_s)
            await backend.audit.record("token.created", actor="cli", token_id=record.jti, sub="admin",
                                       scopes=record.scopes, note="first admin token written by kitgate init")
            try:
                write_secret(admin_file, token)
            except OSError as exc:
                raise fail(f"cannot write {admin_file}: {exc.strerror}; nothing was created in the store") from None
    return admin_file


def init_command(data_dir: Path | None) -> None:
    require("server", command="init")
    from kitgate.cli.offline import open_keys

    settings = load_settings(data_dir)
    if not settings.database_url:
        check_data_dir(settings, given=data_dir is not None, create=True)
    assert settings.keys_dir is not None
    before = _existing_purposes(settings.keys_dir)

    async def go() -> tuple[KeyRing, Path | None]:
        if settings.database_url:  # an unmigrated schema: say so before anything is made
            status = await _pg_status(settings)
            if not status.ok:
                from kitgate.controller.pg.backend import schema_mismatch_line

                raise fail(schema_mismatch_line(status.current, status.expected))
        keys = open_keys(settings, create=True)  # first: PostgreSQL's audit trail signs with the audit key
        backend = await start_backend(settings)
        try:
            return keys, await _first_admin(settings, backend, keys)
        finally:
            await backend.close()

    keys, admin_file = run(go())
    created = sorted(_existing_purposes(keys.dir) - before)
    if created:
        typer.echo(f"created {', '.join(created)} signing key(s) in {keys.dir} (KITGATE_KEYS_DIR; share it read-only "
                   "with every replica)")
    if admin_file is not None:
        typer.echo(f"wrote the first admin token to {admin_file} (mode 0600; the token is not printed)")
    if not created and admin_file is None:
        typer.echo(f"already initialised: keys in {keys.dir}, an admin token in {describe_store(settings)}; "
                   "nothing changed")


def _status_line(settings: Settings, status: SchemaStatus) -> str:
    state = "up to date" if status.ok else (
        "needs `kitgate db migrate`" if status.current < status.expected else "newer than this kitgate: upgrade it")
    return (f"{describe_store(settings)}: engine {status.engine}, schema version {status.current}, "
            f"this kitgate needs {status.expected}: {state}")


async def _pg_status(settings: Settings) -> SchemaStatus:
    """Read straight from the database: unlike PgBackend.start, this must work on an unmigrated schema."""
    import psycopg

    from kitgate.controller.backend import SchemaStatus
    from kitgate.controller.pg import migrate

    assert settings.database_url is not None
    try:
        async with await psycopg.AsyncConnection.connect(settings.database_url, connect_timeout=10) as conn:
            current, expected = await migrate.status(conn)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise fail(f"{describe_store(settings)} does not answer: {first}") from None
    return SchemaStatus("postgres", current, expected)


async def _sqlite_status(settings: Settings, migrate_first: bool) -> SchemaStatus:
    from kitgate.controller.sqlite_backend import SqliteBackend

    backend = SqliteBackend(settings)
    try:
        if migrate_first:
            await backend.start()
        return await backend.schema_status()
    finally:
        await backend.close()


def migrate_command(data_dir: Path | None) -> None:
    require("server", command="db migrate")
    settings = load_settings(data_dir)
    if not settings.database_url:
        check_data_dir(settings, given=data_dir is not None, create=True)
        status = run(_sqlite_status(settings, migrate_first=True))
        typer.echo(_status_line(settings, status))
        return
    import psycopg

    from kitgate.controller.pg import migrate

    try:
        applied = run(migrate.apply(settings.database_url))
    except migrate.MigrationError as exc:
        raise fail(f"{describe_store(settings)}: {exc}", 1) from None
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise fail(f"{describe_store(settings)}: migration failed: {first}", 1) from None
    typer.echo(f"applied {', '.join(applied)}" if applied else "no migration to apply")
    typer.echo(_status_line(settings, run(_pg_status(settings))))


def status_command(data_dir: Path | None) -> None:
    require("server", command="db status")
    settings = load_settings(data_dir)
    if settings.database_url:
        status = run(_pg_status(settings))
    else:
        check_data_dir(settings, given=data_dir is not None, create=False)
        status = run(_sqlite_status(settings, migrate_first=False))
    typer.echo(_status_line(settings, status))
    if not status.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(data_dir: DataDir = None) -> None:
        """Create the signing keys (KITGATE_KEYS_DIR) and the first admin token (<data dir>/admin.token), once.

        On PostgreSQL (KITGATE_DATABASE_URL) run `kitgate db migrate` first. A second run changes nothing."""
        init_command(data_dir)

    db_app = typer.Typer(help="The database schema (KITGATE_DATABASE_URL, else the data dir's SQLite file).",
                         no_args_is_help=True)

    @db_app.command("migrate")
    def migrate(data_dir: DataDir = None) -> None:
        """Apply the schema migrations this kitgate ships (PostgreSQL: under an advisory lock, checksummed)."""
        migrate_command(data_dir)

    @db_app.command("status")
    def status(data_dir: DataDir = None) -> None:
        """The schema version the database has and the one this kitgate needs; exit 1 when they differ."""
        status_command(data_dir)

    app.add_typer(db_app, name="db")

