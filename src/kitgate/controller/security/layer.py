"""The security layer the controller puts in front of every endpoint but /healthz and /readyz.

Why it awaits: credentials, refusals and rate limits read and write durable state through the async store
boundary (backend.py), which is PostgreSQL shared by several replicas or the embedded SQLite file. The
signing keys are never in that store: they are files in KITGATE_KEYS_DIR, read here at start-up.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.types import Receive, Scope, Send

from kitgate.controller.backend import ApiKeyStoreApi, AuditApi, Backend, TokenStoreApi
from kitgate.controller.errors import ApiError
from kitgate.controller.logging import current_request_id
from kitgate.controller.security.apikeys import looks_like_apikey
from kitgate.controller.security.bodylimit import read_limited_body, send_envelope
from kitgate.controller.security.headerlimit import header_problem
from kitgate.controller.security.jsonshape import ShapeLimits
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.security.netguard import client_ip, in_networks, parse_networks
from kitgate.controller.security.principal import SCOPES, Principal
from kitgate.controller.security.ratelimit import RateLimits, Verdict
from kitgate.controller.security.tokens import AuthFailure
from kitgate.controller.settings import Settings
from kitgate.protocol.claims import build_claims, sign_claim

ADMIN_TOKEN_FILE = "admin.token"
_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_\-.]{1,4096})$")
_UNAUTHORISED = "missing or invalid credentials"  # the same for every reason; the reason goes to the audit trail
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kitgate"'}
# The one exception, for a credential proven genuine (tokens.EXPIRED_REASONS): its holder learns it expired
# and how to get a new one; the challenge says so the RFC 6750 way.
_EXPIRED = {
    "expired": "the token has expired; create a new one with `kitgate token create` (on the controller's host)",
    "apikey_expired": "the API key has expired; create a new one with `kitgate apikey create`",
}
_EXPIRED_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kitgate", error="invalid_token", '
                                          'error_description="the credential expired"'}
_RATE_AUDIT_EVERY_S = 10.0


def write_secret(path: Path, secret: str) -> None:
    """Create a file readable by the owner only; never overwrite an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")


class SecurityLayer:
    def __init__(self, settings: Settings, backend: Backend) -> None:
        self.settings = settings
        self.backend = backend
        assert settings.keys_dir is not None  # Settings fills it in (<data_dir>/keys by default)
        self.keys = KeyRing(settings.keys_dir)
        self.audit: AuditApi = backend.audit
        self.tokens: TokenStoreApi | None = None
        self.rates = RateLimits(settings, on_change=self._rates_changed)
        self.apikeys: ApiKeyStoreApi | None = None
        self._allow = parse_networks(settings.allow_cidrs)
        self._trusted = parse_networks(settings.trusted_proxies)
        self._limited: dict[tuple[str, str], tuple[float, int]] = {}
        self._shape = ShapeLimits(settings.max_json_depth, settings.max_json_containers)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def startup(self) -> None:
        """Keys from KITGATE_KEYS_DIR, the credential stores from the backend.

        Embedded SQLite (one controller, `make demo`): missing keys and the first admin token are created
        here. PostgreSQL (several replicas): never; `kitgate init` makes them once, and a replica without
        keys stops with KeysMissing (one line naming the dir and `kitgate init`)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.settings.data_dir, 0o700)
        embedded = self.backend.kind == "sqlite"
        self.keys.load(create=embedded)
        self.tokens = self.backend.token_store(self.keys, self.settings.token_issuer, self.settings.token_audience)
        self.apikeys = self.backend.apikey_store()
        self.backend.jobs.credential_live = self.credential_live
        if embedded:
            await self._first_admin_token(self.tokens)

    async def _first_admin_token(self, tokens: TokenStoreApi) -> None:
        """The demo's first admin token, written to <data_dir>/admin.token (0600) with its audit record in
        one unit: a file that cannot be written leaves no token behind."""
        admin_file = self.settings.data_dir / ADMIN_TOKEN_FILE
        if admin_file.exists() or await tokens.has_admin():
            return
        async with self.backend.unit():
            token, record = await tokens.issue("admin", ["admin", "jobs:submit", "jobs:read"],
                                               ttl_s=self.settings.default_token_ttl_s)
            write_secret(admin_file, token)
            await self.audit.record("token.created", actor="system", token_id=record.jti, sub="admin",
                                    scopes=record.scopes, note="first admin token written to the data dir")

    async def _rates_changed(self, state: str, detail: str) -> None:
        """The rate limiter moved between its shared store and the per-replica fallback (Redis down or back)."""
        await self.audit.record("ratelimit." + state, actor="controller", ip=None, request_id=None, detail=detail)

    async def credential_live(self, credential: str) -> bool:
        """Is "<kind>:<id>" (what a worker id is bound to) a credential that would still be accepted?
        Revoked, expired and deleted ones are not: the worker id they held may then move to another."""
        assert self.tokens is not None and self.apikeys is not None, "security layer not started"
        kind, _, ident = credential.partition(":")
        now = time.time()
        if kind == "token":
            token = await self.tokens.get(ident)
            return token is not None and token.revoked_at is None and token.expires_at > now
        if kind == "apikey":
            key = await self.apikeys.get(ident)
            return key is not None and key.revoked_at is None and (key.expires_at is None or key.expires_at > now)
        return False

    def ready(self) -> bool:
        try:
            return self.tokens is not None and bool(self.keys.active("envelope"))
        except (KeyError, IndexError):
            return False

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The checks every request passes before any route runs: a header flood (431, audited), the body's
        size (413) and its JSON shape (422). Run by the one request middleware (logging.RequestContextMiddleware)
        rather than as layers of their own: each ASGI layer is another coroutine and `send` wrapper per request.
        Returns the `receive` that replays the buffered body, or None when the request was answered."""
        problem = header_problem(scope, self.settings.max_header_bytes, self.settings.max_headers)
        if problem is not None:
            await self._header_flood(scope, problem)
            await send_envelope(scope, send, 431, "headers_too_large", problem)
            return None
        return await read_limited_body(scope, receive, send, self.settings.max_body_bytes, self._shape)

    async def _header_flood(self, scope: Scope, problem: str) -> None:
        """Audited like a bad credential (spending the anon budget), so a flood cannot flood the trail."""
        client = scope.get("client")
        xff = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for"), None)
        ip = client_ip(client[0] if client else None, xff, self._trusted)
        if not (await self.rates.hit("anon", ip or "unknown")).allowed:
            return
        await self.audit.record("request.refused", actor=None, ip=ip, request_id=current_request_id(scope),
                                path=str(scope.get("path", ""))[:200], method=scope.get("method"), reason=problem)

    # ---- per request ---------------------------------------------------------------------------
    def client_ip(self, request: Request) -> str | None:
        peer = request.client.host if request.client else None
        return client_ip(peer, request.headers.get("x-forwarded-for"), self._trusted)

    def require(self, *scopes: str, rate: str = "read") -> Callable[[Request], Awaitable[Principal]]:
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"unknown scopes {sorted(unknown)}")
        if rate not in {"submit", "read", "worker", "admin"}:
            raise ValueError(f"unknown rate bucket {rate!r}")

        async def dependency(request: Request) -> Principal:
            return await self.authenticate(request, scopes, rate)

        return dependency

    async def authenticate(self, request: Request, scopes: tuple[str, ...], rate: str) -> Principal:
        """Network, credential, token network, rate, scope, in that order; every refusal is audited.

        Refusals before a credential is accepted spend the caller IP's anon budget, so a flood of bad
        credentials (or of requests from a refused network) ends in 429 instead of one audit row each.
        """
        ip, rid = await self._network_gate(request)
        try:
            principal, cidrs = await self._verify_credential(request)
        except AuthFailure as failure:
            await self._refuse_anon(request, ip, rid, "auth.failed", reason=failure.reason)
            raise self._unauthorised(failure) from None
        return await self._admit(request, principal, cidrs, scopes, rate, ip, rid)

    async def authenticate_session(self, request: Request, principal: Principal, cidrs: list[str] | None,
                                   scopes: tuple[str, ...], rate: str) -> Principal:
        """The console's cookie session: its credential was verified at sign-in (`verify_secret`); here it
        must still be live (not revoked, expired or deleted), then the same network, rate and scope checks
        as a bearer request run."""
        ip, rid = await self._network_gate(request)
        if not await self.credential_live(f"{principal.kind}:{principal.token_id}"):
            await self._refuse_anon(request, ip, rid, "auth.failed", actor=principal.sub,
                                    token_id=principal.token_id, reason="session_credential_not_live")
            raise self._unauthorised(AuthFailure("session_credential_not_live"))
        return await self._admit(request, principal, cidrs, scopes, rate, ip, rid)

    async def verify_secret(self, credential: str) -> tuple[Principal, list[str] | None, float | None]:
        """A pasted token or API key (the console's sign-in form): (principal, its networks, its expiry).
        Raises AuthFailure, like a bad bearer header."""
        assert self.tokens is not None and self.apikeys is not None, "security layer not started"
        if looks_like_apikey(credential):
            principal, key_record = await self.apikeys.verify(credential)
            return principal, key_record.cidrs, key_record.expires_at
        principal, record = await self.tokens.verify(credential)
        return principal, record.cidrs, record.expires_at

    async def _network_gate(self, request: Request) -> tuple[str | None, str | None]:
        """The caller's resolved address and request id; 403 (audited) outside KITGATE_ALLOW_CIDRS."""
        ip = self.client_ip(request)
        request.state.client_ip = ip
        rid = current_request_id(request.scope)
        if self._allow and not in_networks(ip, self._allow):
            await self._refuse_anon(request, ip, rid, "auth.denied_network", reason="not_in_allow_cidrs")
            raise ApiError(403, "forbidden", "requests from this network are not allowed")
        return ip, rid

    async def _admit(self, request: Request, principal: Principal, cidrs: list[str] | None,
                     scopes: tuple[str, ...], rate: str, ip: str | None, rid: str | None) -> Principal:
        """Token network, rate, scope, in that order, for a verified principal."""
        if cidrs and not in_networks(ip, parse_networks(cidrs)):
            await self._refuse_anon(request, ip, rid, "auth.denied_network", actor=principal.sub,
                                    token_id=principal.token_id, kind=principal.kind, reason="not_in_token_cidrs")
            raise ApiError(403, "forbidden", "this credential may not be used from this network")
        verdict = await self.rates.hit_identity(rate, principal.sub, ip)
        if not verdict.allowed:
            await self._rate_limited(request, verdict, principal.sub if verdict.bucket != "ip" else ip or "-",
                                     principal.sub, ip, rid)
            raise self._too_many(verdict.retry_after_s)
        if not any(principal.has(s) for s in scopes):
            await self._deny(request, "auth.denied_scope", principal.sub, ip, rid, token_id=principal.token_id,
                             kind=principal.kind, needed=list(scopes))
            raise ApiError(403, "forbidden", f"this credential lacks the scope {' or '.join(scopes)}")
        request.state.principal = principal
        return principal

    async def _verify_credential(self, request: Request) -> tuple[Principal, list[str] | None]:
        """Bearer JWT, or an API key as `Authorization: Bearer kg_...` or `X-API-Key: kg_...` (one, not both)."""
        assert self.tokens is not None and self.apikeys is not None, "security layer not started"
        header = request.headers.get("authorization")
        api_key = request.headers.get("x-api-key")
        if header is not None and api_key is not None:
            raise AuthFailure("two_credentials")
        if api_key is not None:
            principal, key_record = await self.apikeys.verify(api_key.strip())
            return principal, key_record.cidrs
        if not header:
            raise AuthFailure("missing")
        match = _BEARER.match(header)
        if not match:
            raise AuthFailure("malformed")
        credential = match.group(1)
        if looks_like_apikey(credential):
            principal, key_record = await self.apikeys.verify(credential)
            return principal, key_record.cidrs
        principal, record = await self.tokens.verify(credential)
        return principal, record.cidrs

    async def _refuse_anon(self, request: Request, ip: str | None, rid: str | None, event: str, *,
                           actor: str | None = None, **fields: Any) -> None:
        verdict = await self.rates.hit("anon", ip or "unknown")
        if not verdict.allowed:
            await self._rate_limited(request, verdict, ip or "unknown", actor, ip, rid, refused=event)
            raise self._too_many(verdict.retry_after_s)
        await self._deny(request, event, actor, ip, rid, **fields)

    async def _rate_limited(self, request: Request, verdict: Verdict, key: str, actor: str | None,
                            ip: str | None, rid: str | None, **fields: Any) -> None:
        """One audit record per (bucket, key) per window, with the count of 429s it stands for."""
        now = time.monotonic()
        slot = (verdict.bucket, key)
        last, suppressed = self._limited.get(slot, (float("-inf"), 0))
        if now - last < _RATE_AUDIT_EVERY_S:
            self._limited[slot] = (last, suppressed + 1)
            return
        if len(self._limited) > 10_000:
            self._limited.clear()
        self._limited[slot] = (now, 0)
        await self._deny(request, "rate.limited", actor, ip, rid, bucket=verdict.bucket, key=key,
                         retry_after_s=verdict.retry_after_s, suppressed_since_last=suppressed, **fields)

    async def _deny(self, request: Request, event: str, actor: str | None, ip: str | None, rid: str | None,
                    **fields: Any) -> None:
        await self.audit.record(event, actor=actor, ip=ip, request_id=rid, path=request.url.path[:200],
                                method=request.method, **fields)

    @staticmethod
    def _unauthorised(failure: AuthFailure) -> ApiError:
        """The generic 401 for every reason but the expiry of a genuine credential."""
        if failure.expired:
            kind = "apikey" if failure.reason.startswith("apikey") else "token"  # what the caller sent anyway
            return ApiError(401, "token_expired", _EXPIRED[failure.reason], details={"credential": kind},
                            headers=dict(_EXPIRED_CHALLENGE))
        return ApiError(401, "unauthorized", _UNAUTHORISED, headers=dict(_CHALLENGE))

    @staticmethod
    def _too_many(retry_after: int) -> ApiError:
        return ApiError(429, "rate_limited", f"too many requests; retry after {retry_after} s",
                        details={"retry_after_s": retry_after}, headers={"Retry-After": str(retry_after)})

    # ---- envelopes -----------------------------------------------------------------------------
    def sign_envelope(self, *, job_id: str, code_sha256: str, policy: str, policy_digest: str,
                      limits: dict[str, Any], timeout_s: float | None, worker_id: str,
                      attempt: int) -> tuple[str, str]:
        claims = build_claims(
            job_id=job_id, code_sha256=code_sha256, policy=policy, policy_digest=policy_digest, limits=limits,
            timeout_s=timeout_s, worker_id=worker_id, attempt=attempt, ttl_s=self.settings.envelope_ttl_s,
            now=time.time(),
        )
        key = self.keys.active("envelope")
        return sign_claim(key.private, key.kid, claims), claims["jti"]

    def public_jwks(self) -> dict[str, Any]:
        return self.keys.jwks("envelope")
