"""`kitgate token|apikey create|list|revoke`, `kitgate keys rotate|list|jwks`, `kitgate audit verify`, offline.

They write to the store the controllers use (the data dir's SQLite file, or the shared PostgreSQL of
KITGATE_DATABASE_URL from any machine, cli/offline.py) and read the key dir (KITGATE_KEYS_DIR); a revocation
takes effect on every replica's next request. Secrets are printed once on stdout and never logged or audited.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitgate.cli.extras import require
from kitgate.cli.offline import check_data_dir, fail, load_settings, open_keys, opened, run

if TYPE_CHECKING:
    from kitgate.controller.security.keys import KeyRing

_TTL = re.compile(r"^(\d{1,9})([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SUB = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_HEAD = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")
MAX_TTL_S = 366 * 86400

DataDir = Annotated[Path | None, typer.Option("--data-dir", envvar="KITGATE_DATA_DIR", help="controller data dir")]
Scopes = Annotated[list[str], typer.Option("--scope", help="jobs:submit, jobs:read, worker or admin (repeatable)")]
Policies = Annotated[list[str] | None, typer.Option("--policy", help="restrict to these policies (repeatable)")]
Cidrs = Annotated[list[str] | None, typer.Option("--cidr", help="restrict to these source networks (repeatable)")]
Sub = Annotated[str | None, typer.Option("--sub", help="identity name recorded in the audit trail")]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def parse_ttl(text: str) -> int:
    match = _TTL.match(text.strip())
    if not match:
        raise typer.BadParameter("use a number with an optional unit s, m, h or d (for example 1h or 30d)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 60 <= seconds <= MAX_TTL_S:
        raise typer.BadParameter("a credential lives between 1 minute and 366 days")
    return seconds


def _check_restrictions(cidrs: list[str] | None, sub: str | None) -> None:
    for c in cidrs or []:
        try:
            ipaddress.ip_network(c, strict=False)
        except ValueError:
            raise typer.BadParameter(f"{c!r} is not a network in CIDR form") from None
    if sub is not None and not _SUB.match(sub):
        raise typer.BadParameter("--sub: letters, digits and _.:@- only, at most 128 characters")


def _keys_only(data_dir: Path | None) -> KeyRing:
    """The key dir alone (no store): SQLite's data dir must exist; its missing keys are made as before."""
    require("server", command="keys")
    settings = load_settings(data_dir)
    sqlite = not settings.database_url
    if sqlite:
        check_data_dir(settings, given=data_dir is not None, create=False)
    return open_keys(settings, create=sqlite)


def _check_purpose(purpose: str) -> None:
    require("server", command="keys")
    from kitgate.controller.security.keys import PURPOSES

    if purpose not in PURPOSES:
        raise typer.BadParameter(f"unknown key purpose {purpose!r}; one of {', '.join(PURPOSES)}")


def _default_sub(scopes: list[str]) -> str:
    return "-".join(sorted(scopes)).replace(":", "_")


# kind -> (store attribute on offline.Offline, audit field for the id, record attribute of the id, noun in errors)
_KINDS = {"token": ("tokens", "token_id", "jti", "token"), "apikey": ("apikeys", "key_id", "id", "API key")}


def _issue(data_dir: Path | None, kind: str, scopes: list[str], policies: list[str] | None,
           cidrs: list[str] | None, sub: str | None, ttl_s: int | None) -> str:
    """Create a token or API key offline and audit it in the same commit; returns the secret (printed once,
    never stored)."""
    store_attr, id_field, id_attr, _noun = _KINDS[kind]

    async def issue() -> str:
        async with opened(data_dir, create=True) as parts:
            async with parts.backend.unit():
                secret, record = await getattr(parts, store_attr).issue(
                    sub or _default_sub(scopes), list(scopes), ttl_s=ttl_s, policies=policies or None,
                    cidrs=cidrs or None)
                await parts.audit.record(f"{kind}.created", actor="cli", sub=record.sub, scopes=record.scopes,
                                         policies=record.policies, cidrs=record.cidrs, expires_at=record.expires_at,
                                         **{id_field: getattr(record, id_attr)})
            return secret

    try:
        return run(issue())
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _revoke(data_dir: Path | None, kind: str, ident: str) -> None:
    store_attr, id_field, _id_attr, noun = _KINDS[kind]

    async def revoke() -> bool:
        async with opened(data_dir) as parts, parts.backend.unit():
            done = await getattr(parts, store_attr).revoke(ident)
            if done:
                await parts.audit.record(f"{kind}.revoked", actor="cli", **{id_field: ident})
            return bool(done)

    if not run(revoke()):
        typer.echo(f"error: no active {noun} with id {ident}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {ident}")


async def _records(data_dir: Path | None, store_attr: str) -> list[dict[str, Any]]:
    async with opened(data_dir) as parts:
        return [r.public_dict() for r in await getattr(parts, store_attr).list()]


def register(app: typer.Typer) -> None:
    token_app = typer.Typer(help="Create, list and revoke bearer tokens (JWT).", no_args_is_help=True)
    apikey_app = typer.Typer(help="Create, list and revoke static API keys for CI.", no_args_is_help=True)
    keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
    audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

    @token_app.command("create")
    def create(
        scope: Scopes,
        data_dir: DataDir = None,
        policy: Policies = None,
        ttl: Annotated[str, typer.Option("--ttl", help="lifetime, e.g. 1h, 30d")] = "30d",
        cidr: Cidrs = None,
        sub: Sub = None,
    ) -> None:
        """Print a new token on stdout (nothing else), so it can be piped into a 0600 file."""
        ttl_s = parse_ttl(ttl)
        _check_restrictions(cidr, sub)
        typer.echo(_issue(data_dir, "token", scope, policy, cidr, sub, ttl_s))

    @token_app.command("list")
    def list_(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """List token ids, subjects and scopes (never the tokens themselves)."""
        _print_records(run(_records(data_dir, "tokens")), "jti", as_json)

    @token_app.command("revoke")
    def revoke(jti: str, data_dir: DataDir = None) -> None:
        """Revoke by token id; takes effect on the controller's next request."""
        _revoke(data_dir, "token", jti)

    @apikey_app.command("create")
    def apikey_create(
        scope: Scopes,
        data_dir: DataDir = None,
        policy: Policies = None,
        ttl: Annotated[str | None, typer.Option("--ttl", help="lifetime, e.g. 90d (default: until revoked)")] = None,
        cidr: Cidrs = None,
        sub: Sub = None,
    ) -> None:
        """Print a new API key (`kg_...`) on stdout, once: only its SHA-256 digest is stored."""
        ttl_s = parse_ttl(ttl) if ttl else None
        _check_restrictions(cidr, sub)
        typer.echo(_issue(data_dir, "apikey", scope, policy, cidr, sub, ttl_s))

    @apikey_app.command("list")
    def apikey_list(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """List API key ids, subjects and scopes (the keys themselves are not stored)."""
        _print_records(run(_records(data_dir, "apikeys")), "id", as_json)

    @apikey_app.command("revoke")
    def apikey_revoke(key_id: str, data_dir: DataDir = None) -> None:
        """Revoke by key id (the 16 hex digits after `kg_`); takes effect on the controller's next request."""
        _revoke(data_dir, "apikey", key_id)

    @keys_app.command("rotate")
    def rotate(
        purpose: Annotated[str, typer.Argument(help="token or envelope (`kitgate keys list` shows every purpose)")]
        = "envelope",
        data_dir: DataDir = None,
    ) -> None:
        """Add a new signing key to the key dir; older keys keep verifying. Controllers sign with it after
        their next start (docs/deploy.md: rotating across replicas and workers)."""
        _check_purpose(purpose)

        async def rotate_key() -> str:
            async with opened(data_dir) as parts:
                try:
                    key = parts.keys.rotate(purpose)
                except OSError as exc:
                    raise fail(f"cannot write a key into {parts.keys.dir} (KITGATE_KEYS_DIR): {exc.strerror}") \
                        from None
                await parts.audit.record("key.rotated", actor="cli", purpose=purpose, kid=key.kid)
                return key.kid

        typer.echo(f"new {purpose} key {run(rotate_key())}")

    @keys_app.command("list")
    def keys_list(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Key ids per purpose, oldest first; the last of each purpose is the one that signs."""
        from kitgate.controller.security.keys import PURPOSES

        keys = _keys_only(data_dir)
        rows = [
            {"purpose": purpose, "kid": jwk["kid"], "active": i == len(jwks["keys"]) - 1}
            for purpose in PURPOSES
            for jwks in [keys.jwks(purpose)]
            for i, jwk in enumerate(jwks["keys"])
        ]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for r in rows:
            typer.echo(f"{r['purpose']:9} {r['kid']}  {'active' if r['active'] else 'verify-only'}")

    @keys_app.command("jwks")
    def keys_jwks(
        purpose: Annotated[str, typer.Argument(help="envelope (what workers pin) or token")] = "envelope",
        data_dir: DataDir = None,
    ) -> None:
        """Print the public keys of a purpose as a JWKS, read from the key dir: the file to give workers
        (`kitgate worker --jwks FILE`) before controllers sign with a newly rotated envelope key."""
        _check_purpose(purpose)
        typer.echo(json.dumps(_keys_only(data_dir).jwks(purpose), indent=2))

    @audit_app.command("verify")
    def verify(
        data_dir: DataDir = None,
        expect_head: Annotated[str | None, typer.Option(
            "--expect-head", help="SEQ:HASH of a head kept outside the data dir (from GET /v1/audit's `head`)")] = None,
    ) -> None:
        """Walk the hash chain; exit 1 if any record was edited, deleted, reordered or cut off the end."""
        expected = None
        if expect_head is not None:
            match = _HEAD.match(expect_head.strip())
            if not match:
                raise typer.BadParameter("--expect-head: SEQ:HASH, the hash as 64 lowercase hex digits")
            expected = (int(match.group(1)), match.group(2))

        async def check() -> tuple[Any, dict[str, Any]]:
            async with opened(data_dir) as parts:
                return await parts.audit.verify_chain(expected), await parts.audit.head()

        report, head = run(check())
        if report.ok:
            typer.echo(f"audit chain intact: {report.records} records, head {head['seq']}:{head['hash']}")
            return
        where = f" at record {report.first_bad_seq}" if report.first_bad_seq is not None else ""
        typer.echo(f"audit chain BROKEN{where}: {report.problem}", err=True)
        raise typer.Exit(1)

    app.add_typer(token_app, name="token")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(keys_app, name="keys")
    from kitgate.cli.ops_cmds import audit_show

    audit_app.command("show")(audit_show)  # over HTTP with an admin token, next to the offline `verify`
    app.add_typer(audit_app, name="audit")


def _print_records(records: list[dict[str, Any]], id_field: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    import time

    now = time.time()
    for r in records:
        expires = r.get("expires_at")
        state = "revoked" if r["revoked_at"] else "expired" if expires is not None and expires <= now else "active"
        restricted = " ".join(
            f"{label}={','.join(r[key])}" for key, label in (("policies", "policy"), ("cidrs", "cidr")) if r[key]
        )
        typer.echo(f"{r[id_field]}  {state:8} {r['sub']:24} {' '.join(r['scopes'])} {restricted}".rstrip())
