"""create_app(settings) -> FastAPI: wires store, notifier, metrics, security and routes for one controller.

Why the start-up order: the store first (`Backend.start`: SQLite migrates itself, PostgreSQL refuses a schema
this code was not written for, with SchemaMismatch), then the keys and credentials (SecurityLayer.startup),
then the restart grace (only the time no controller was alive), and only then the sweeper and the requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from kitgate.controller.api_docs import install_docs, package_version
from kitgate.controller.backend import open_backend
from kitgate.controller.context import AppContext
from kitgate.controller.error_handlers import install_error_handlers
from kitgate.controller.events import EventBus
from kitgate.controller.jobs_service import JobService
from kitgate.controller.logging import RequestContextMiddleware
from kitgate.controller.metrics import Metrics
from kitgate.controller.notify import Notifier
from kitgate.controller.settings import Settings

API_TITLE = "kitgate"
API_VERSION = package_version()  # the OpenAPI document follows the installed package


def build_context(settings: Settings) -> AppContext:
    from kitgate.controller.security import SecurityLayer

    backend = open_backend(settings)
    metrics = Metrics(backend.jobs)
    notifier = Notifier(backend.wakeups)
    security = SecurityLayer(settings, backend)  # sets backend.jobs.credential_live at start-up
    metrics.watch_rate_limits(security.rates)
    events = EventBus(retention=settings.event_retention, queue_size=settings.event_queue)
    service = JobService(settings, backend, notifier, metrics, security, events=events)
    return AppContext(settings, backend, backend.jobs, notifier, metrics, security, service, events=events)


def create_app(settings: Settings) -> FastAPI:
    """One app per Settings; all state hangs off app.state.kitgate (no module globals)."""
    ctx = build_context(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.notifier.bind(asyncio.get_running_loop())
        backend = ctx.backend
        await backend.start()  # SchemaMismatch propagates: `kitgate serve` prints its one line
        try:
            await ctx.security.startup()
            await ctx.store.recover_after_restart(interval_s=settings.lost_check_interval_s)
        except BaseException:
            await backend.close()
            raise
        listener = (asyncio.create_task(ctx.notifier.listen(), name="kitgate-wakeups")
                    if backend.wakeups is not None else None)
        stop = asyncio.Event()
        sweeper = asyncio.create_task(ctx.service.sweep_forever(stop), name="kitgate-lost-sweeper")
        try:
            yield
        finally:
            stop.set()
            ctx.events.close()  # open event streams end now instead of holding the shutdown up
            with contextlib.suppress(Exception):
                await sweeper
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await listener
            with contextlib.suppress(Exception):
                await ctx.security.rates.close()
            with contextlib.suppress(Exception):
                await ctx.security.audit.close()
            await backend.close()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description="Authenticated, policy-checked, durable execution of Python on OpenUSD stages / Omniverse Kit.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from install_docs: local assets, not a CDN
        redoc_url=None,
    )
    install_docs(app)
    app.state.kitgate = ctx
    install_error_handlers(app)

    from kitgate.controller import routes_aliases, routes_health, routes_info, routes_jobs, routes_workers

    for module in (routes_health, routes_jobs, routes_workers, routes_info, routes_aliases):
        app.include_router(module.router(ctx))
    from kitgate.controller import routes_events

    app.include_router(routes_events.router(ctx))
    from kitgate.controller import routes_images

    app.include_router(routes_images.router(ctx))
    from kitgate.controller import console

    console.install(app, ctx)  # /console: pages, cookie sessions, CSRF, browser headers
    # added last = outermost: every response, even the security layer's 431/413/401, gets the request id;
    # the header and body limits run inside this one layer (SecurityLayer.admit), not as layers of their own
    app.add_middleware(RequestContextMiddleware, on_done=ctx.metrics.observe_request, admit=ctx.security.admit)
    return app
