"""/docs and /redoc that work offline, and an OpenAPI document that knows how callers authenticate.

FastAPI's default pages load Swagger UI and ReDoc from a CDN: on an air-gapped controller (or any
browser without internet access) /docs is a blank page. The assets come instead from the installed
`fastapi-offline` package (MIT), which vendors swagger-ui-dist (Apache-2.0) and redoc (MIT); we use
only its static folder and serve it under /docs-assets with our own routes.

Authentication is a per-route dependency, which FastAPI cannot see, so the schemes (bearer token,
`X-API-Key`) are declared here and attached to every operation that can answer 401. That gives the
Swagger page its Authorize button; the docs pages themselves need no credential and hold none.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_URL = "/docs-assets"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A kitgate token (`kitgate token create`) or API key, as `Authorization: Bearer ...`.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A kitgate API key (`kitgate apikey create`), `kg_<id>_<secret>`.",
    },
}
# The docs pages may load only what this controller serves: no CDN, no analytics, no remote logo (ReDoc's
# sidebar links one from its CDN); inline script/style are the pages' own bootstrap, blob: is ReDoc's
# search worker.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# Either scheme satisfies an operation (OpenAPI: alternatives are separate requirement objects).
_REQUIREMENT = [{"bearerAuth": []}, {"apiKeyHeader": []}]


def package_version() -> str:
    """The installed kitgate distribution's version: the API document follows the package."""
    try:
        return metadata.version("kitgate")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0.0.0"


def assets_dir() -> Path:
    """The vendored Swagger UI / ReDoc files of the installed fastapi-offline package."""
    import fastapi_offline

    folder = Path(fastapi_offline.__file__).parent / "static"
    if not (folder / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"fastapi-offline is installed without its static assets ({folder})")
    return folder


def secured_openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus security schemes on each operation that can answer 401."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "401" in operation.get("responses", {}):
                operation["security"] = _REQUIREMENT
    app.openapi_schema = schema
    return schema


def install_docs(app: FastAPI) -> None:
    """Create the app with docs_url=None and redoc_url=None, then call this."""
    app.openapi = lambda: secured_openapi(app)  # type: ignore[method-assign]
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return _local_only(get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} {app.version} - API",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": False},
        ))

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _local_only(get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} {app.version} - API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        ))


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
