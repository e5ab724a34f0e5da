"""Read-only information: policies, the envelope verification keys, Prometheus metrics."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import ErrorEnvelope

ERRORS = {s: {"model": ErrorEnvelope} for s in (401, 403, 404, 429)}
PolicyName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    svc = ctx.service
    reader = ctx.caller("jobs:read", rate="read")
    key_reader = ctx.caller("worker", "admin", rate="worker")

    @api.get("/v1/policies", tags=["policies"], summary="Policies this token may use")
    async def policies(caller: Caller = Depends(reader)) -> dict[str, Any]:
        items = [p.public_dict() for p in svc.usable_policies(caller)]
        return {"policies": items, "default": ctx.settings.default_policy}

    @api.get("/v1/policies/{name}", tags=["policies"], summary="What one policy allows")
    async def policy(name: PolicyName, caller: Caller = Depends(reader)) -> dict[str, Any]:
        if not caller.principal.may_use_policy(name):
            raise ApiError(404, "not_found", f"policy {name!r} does not exist")
        try:
            return svc.load_policy(name).public_dict()
        except ApiError as exc:
            raise ApiError(404, "not_found", exc.message, exc.details) from None

    @api.get("/v1/keys", tags=["workers"], summary="Public keys (JWKS) that verify job envelopes")
    async def keys(caller: Caller = Depends(key_reader)) -> dict[str, Any]:
        return ctx.security.public_jwks()

    metrics_admin = ctx.caller("admin", rate="admin")

    @api.get("/v1/audit", tags=["audit"], summary="The hash-chained audit trail (admin)")
    async def audit(
        caller: Caller = Depends(metrics_admin),
        event: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = None,
        actor: Annotated[str | None, Query(max_length=128)] = None,
        request_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")] = None,
        since_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
        since_ts: Annotated[float | None, Query(ge=0, le=1e11, description="unix time")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        audit_log = ctx.security.audit
        records = await audit_log.query(event=event, actor=actor, request_id=request_id, since_seq=since_seq,
                                        since_ts=since_ts, limit=limit)
        return {"records": records, "next_seq": records[-1]["seq"] if len(records) == limit else None,
                "head": await audit_log.head()}

    async def metrics_body() -> PlainTextResponse:
        await ctx.metrics.refresh_counts()  # the job counts, read from the store (any replica's jobs) now
        return PlainTextResponse(ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @api.get("/metrics", tags=["metrics"], summary="Prometheus metrics (loopback clients when allowed, else admin)")
    async def metrics(request: Request) -> PlainTextResponse:
        # the resolved client: behind a trusted proxy on loopback, the proxy's own address must not open this
        peer = ctx.security.client_ip(request) or ""
        if not (ctx.settings.metrics_allow_loopback and _loopback(peer)):
            principal = await ctx.security.authenticate(request, ("admin",), "admin")
            request.scope.setdefault("state", {})["principal_sub"] = principal.sub
        return await metrics_body()

    @api.get("/v1/metrics", tags=["metrics"], summary="Prometheus metrics for admin tokens")
    async def metrics_v1(caller: Caller = Depends(metrics_admin)) -> PlainTextResponse:
        return await metrics_body()

    return api


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
