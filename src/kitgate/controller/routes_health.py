"""Liveness and readiness: unauthenticated, so they say nothing about configuration."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kitgate.controller.context import AppContext


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(tags=["health"])

    @api.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", summary="Readiness: store reachable and signing key loaded")
    async def readyz() -> JSONResponse:
        checks: dict[str, bool] = {"store": ctx.service.store_ready()}
        try:
            checks["signing_key"] = bool(ctx.security.ready())
        except Exception:
            checks["signing_key"] = False
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
        )

    return api
