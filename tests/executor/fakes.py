"""A scriptable HTTP server on 127.0.0.1 for fault injection (garbage, oversize, tampered claims).

It is NOT a controller: tests use the real one for every normal flow. It either serves the replies a
broken or hostile controller could send, or (with `upstream`) forwards to the real controller and lets
a test rewrite one response on the way back: a man in the middle.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, bytes, dict[str, str]]


class FakeServer:
    """Routes (method, path) to a callable(request_json) -> Reply; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[Any], Reply | None]] = {}
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.upstream: str | None = None
        self.transforms: dict[tuple[str, str], Callable[[int, Any], tuple[int, Any]]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                path = self.path.split("?", 1)[0]
                with outer.lock:
                    outer.requests.append((method, self.path, body, dict(self.headers)))
                    route = outer.routes.get((method, path))
                if route is None and method == "POST" and path.startswith("/v1/jobs/") and path.endswith("/result"):
                    route = outer.routes.get(("POST", "/v1/jobs/*/result"))
                elif route is None and method == "POST" and path.startswith("/v1/jobs/") and path.endswith("/output"):
                    route = outer.routes.get(("POST", "/v1/jobs/*/output"))  # live output (none: 404)
                reply = route(body) if route is not None else None  # a route may return None: forward
                if reply is None and outer.upstream is not None:
                    reply = outer._forward(method, self.path, raw, dict(self.headers))
                status, payload, headers = reply if reply is not None else (404, b'{"error":{"code":"x"}}', {})
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in headers:
                        self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _forward(self, method: str, path: str, raw: bytes, headers: dict[str, str]) -> Reply:
        import http.client
        from urllib.parse import urlsplit

        up = urlsplit(self.upstream or "")
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        keep = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type")}
        conn.request(method, path, body=raw or None, headers=keep)
        resp = conn.getresponse()
        status, payload = resp.status, resp.read()
        conn.close()
        with self.lock:
            transform = self.transforms.get((method, path.split("?", 1)[0]))
            if transform is None and _reports_and_claims(method, path):
                transform = self.transforms.get(CLAIM)
                if transform is not None:
                    transform = _on_next_claim(transform)  # a claim is a claim, whichever answer carries it
        if transform is not None and payload:
            status, obj = transform(status, json.loads(payload))
            payload = json.dumps(obj).encode()
        return status, payload, {"Content-Type": "application/json"}

    def route(self, method: str, path: str, fn: Callable[[Any], Reply | None]) -> None:
        with self.lock:
            self.routes[(method, path)] = fn

    def requests_to(self, method: str, prefix: str) -> list[Any]:
        with self.lock:
            return [body for m, p, body, _ in self.requests if m == method and p.startswith(prefix)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


CLAIM = ("POST", "/v1/workers/claim")


def _reports_and_claims(method: str, path: str) -> bool:
    """`POST /v1/jobs/{id}/result?next=true...`: a report whose answer (a ReportAck) carries the next claim."""
    route, _, query = path.partition("?")
    return method == "POST" and route.startswith("/v1/jobs/") and route.endswith("/result") and "next=" in query


def _on_next_claim(transform: Callable[[int, Any], tuple[int, Any]]) -> Callable[[int, Any], tuple[int, Any]]:
    """A claim transform applied to the `next` claim inside a ReportAck."""

    def apply(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict) and isinstance(body.get("next"), dict):
            _status, body["next"] = transform(200, body["next"])
        return status, body

    return apply


def json_reply(status: int, obj: Any) -> Reply:
    return status, json.dumps(obj).encode(), {"Content-Type": "application/json"}
