"""The per-app bundle of parts the routes share (no module globals, so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from kitgate.controller.backend import Backend, JobStoreApi
from kitgate.controller.events import EventBus
from kitgate.controller.jobs_service import Caller, JobService
from kitgate.controller.logging import current_request_id
from kitgate.controller.metrics import Metrics
from kitgate.controller.notify import Notifier
from kitgate.controller.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    backend: Backend  # the store boundary (SQLite or PostgreSQL); `store` is its job store
    store: JobStoreApi
    notifier: Notifier
    metrics: Metrics
    security: Any
    service: JobService
    events: EventBus = field(default_factory=EventBus)  # live job events (GET /v1/events, the console)

    def caller(self, *scopes: str, rate: str) -> Callable[..., Awaitable[Caller]]:
        """A FastAPI dependency: authenticate with any of `scopes` (rate bucket `rate`), return the Caller."""
        self.security.require(*scopes, rate=rate)  # validates the scope names and bucket once, at start-up

        async def dependency(request: Request) -> Caller:
            # called directly rather than as a nested Depends: one dependency level less per request
            principal = await self.security.authenticate(request, scopes, rate)
            request.scope.setdefault("state", {})["principal_sub"] = principal.sub
            # the address the security layer resolved (X-Forwarded-For only from trusted proxies)
            ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else None)
            return Caller(principal=principal, ip=ip, request_id=current_request_id(request.scope))

        return dependency
