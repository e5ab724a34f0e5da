"""Liveness and readiness: unauthenticated, so they name no URL, host, path or secret.

Why /readyz says what it checked: behind a load balancer, a replica whose database is gone or whose schema
is not the one its code expects must leave the pool, and the operator must see which of the two it is.
Ready (200) needs the database answering, its schema version equal to the one this code needs, and the
signing key loaded. Redis is reported but never makes a replica unready: rate limits fall back to this
replica's memory while it is gone (security/ratelimit.py), so serving on is safer than refusing.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kitgate.controller.backend import SchemaStatus
from kitgate.controller.context import AppContext

READY_WAIT_S = 5.0  # a database that does not answer within this is "not answering", not a hung probe


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(tags=["health"])

    @api.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def database() -> tuple[bool, SchemaStatus | None]:
        try:
            async with asyncio.timeout(READY_WAIT_S):
                if not await ctx.backend.ping():
                    return False, None
                return True, await ctx.backend.schema_status()
        except Exception:  # noqa: BLE001 - an unreachable or broken database is "not ready", never a 500
            return False, None

    async def redis() -> str:
        try:
            status = await ctx.security.rates.status()
        except Exception:  # noqa: BLE001 - RateLimits.status never raises; this is insurance for /readyz
            return "degraded"
        return "absent" if status["storage"] == "memory" else status["state"]

    @api.get("/readyz", summary="Readiness: database answering, schema current, signing key loaded")
    async def readyz() -> JSONResponse:
        answers, schema = await database()
        try:
            signing_key = bool(ctx.security.ready())
        except Exception:  # noqa: BLE001 - a broken key ring is "not ready"
            signing_key = False
        checks = {"store": answers, "schema": schema is not None and schema.ok, "signing_key": signing_key}
        ok = all(checks.values())
        body = {
            "status": "ready" if ok else "not_ready",
            "checks": checks,
            "database": {"engine": ctx.backend.kind, "answers": answers},
            "schema": {"current": schema.current if schema else None,
                       "expected": schema.expected if schema else None},
            "redis": await redis(),  # absent | ok | degraded: reported, never a reason to be unready
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return api
