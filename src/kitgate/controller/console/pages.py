"""Rendering: the Jinja2 environment (autoescape on, nothing marked safe) and the query/form readers.

Why apart: every console module renders and reads input the same way, so the one place that decides
escaping and input bounds is here. A form is bounded before it is parsed; a query filter that does not
match its pattern is ignored rather than echoed back.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from kitgate.controller.console import views
from kitgate.controller.console.auth import ConsoleRefusal, Viewer
from kitgate.controller.console.static import ConsoleStatic

MAX_FORM_BYTES = 8192  # sign-in: a token is at most 4096 characters; every other form is smaller still
MAX_FORM_FIELDS = 8


def templates() -> Environment:
    env = Environment(loader=PackageLoader("kitgate.controller.console", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = views.when
    env.filters["ago"] = views.ago
    return env


class Pages:
    """Renders a template with the signed-in viewer and the static files' versioned URLs."""

    def __init__(self, env: Environment, static: ConsoleStatic) -> None:
        self.env = env
        self.static = static

    def render(self, name: str, viewer: Viewer | None, http_status: int = 200, **data: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(viewer=viewer, static=self.static.url, **data)
        return HTMLResponse(html, status_code=http_status)


def query_param(request: Request, name: str, pattern: re.Pattern[str]) -> str | None:
    """An optional filter from the query string; anything not matching `pattern` is ignored."""
    value = request.query_params.get(name, "")
    return value if value and pattern.match(value) else None


def query_int(request: Request, name: str) -> int | None:
    """A non-negative integer of at most 18 digits (a cursor, an event id), else None."""
    value = request.query_params.get(name, "")
    # isascii: str.isdigit() is also true of "²" and other digits int() refuses (a 500 before this check)
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str]:
    """A urlencoded form, bounded before it is parsed (413 past `max_bytes`, 415 for another type)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise ConsoleRefusal(415, "the console accepts its own HTML forms only")
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > max_bytes):
        raise ConsoleRefusal(413, f"the form is larger than {max_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ConsoleRefusal(413, f"the form is larger than {max_bytes} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise ConsoleRefusal(400, "the form could not be read") from None
    return {k: v[0] for k, v in fields.items()}
