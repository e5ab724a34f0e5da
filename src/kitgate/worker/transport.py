"""Stdlib-only HTTP client for the worker API.

Why stdlib: Kit does not promise httpx/requests, and this module runs inside Kit on a
worker thread. Every call has a timeout, every response body is capped and parsed as JSON, and the
current connection can be aborted from another thread so shutdown never waits for a long-poll.

Why keep-alive: a fresh TCP connection per request cost the worker and the controller a connect,
an accept and a new HTTP protocol instance for every claim and every report. The connection is reused
while the server keeps it open; one that was idle longer than `idle_reuse_s` (below uvicorn's 5 s
keep-alive timeout) is replaced before use, and a request that fails on a reused connection before
any response byte arrived is sent once more on a new one (the server closed the idle connection
without reading the request; urllib3 does the same). A resent claim can at worst claim a second job
that nobody receives, which the controller declares `lost` (never re-run); a resent report is
acknowledged as `already_reported`, and a resent report that also claims (`?next=true`) is that
acknowledgement with nothing claimed: the job its first attempt may have claimed goes `lost` the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from kitgate.protocol.errors import error_code

MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # a claim carries up to 1M chars of code, JSON-escaped
USER_AGENT = "kitgate-worker/0.1"
IDLE_REUSE_S = 2.0  # uvicorn closes idle keep-alive connections after 5 s


class TransportError(Exception):
    """The controller could not be reached, or answered with something that is not a usable response."""


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON (dict/list/...) or None for empty bodies
    headers: dict[str, str] = field(default_factory=dict, compare=False)  # names lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def error_code(self) -> str | None:
        """The `error.code` of kitgate's error envelope, if the body is one."""
        return error_code(self.body)


class ControllerTransport:
    """One persistent HTTP(S) connection, reused across requests; thread-safe `abort()`.

    `request()` itself is meant for one thread at a time (the runner gives each thread its own
    transport); `abort()` may be called from any thread.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 10.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        ca_file: str | None = None,
        idle_reuse_s: float = IDLE_REUSE_S,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"controller URL must be http(s)://host[:port], got {base_url!r}")
        if parts.query or parts.fragment:
            raise ValueError("controller URL must not carry a query or fragment")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s
        self._max = max_response_bytes
        self._idle_reuse_s = idle_reuse_s
        self._ssl = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        self._lock = threading.Lock()
        self._current: http.client.HTTPConnection | None = None  # open connection (idle or in use)
        self._idle_since = 0.0
        self._busy = False
        self._aborted = False
        self.connects = 0  # connections opened so far (a test checks that they are reused)

    def __repr__(self) -> str:  # never show the token
        return f"ControllerTransport({self._scheme}://{self._host}:{self._port}{self._prefix})"

    def abort(self) -> None:
        """Interrupt the request in flight (if any), close the connection and refuse new requests.

        Safe from any thread.
        """
        with self._lock:
            self._aborted = True
            conn, busy = self._current, self._busy
            if not busy:
                self._current = None
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if conn is not None and not busy:
            conn.close()  # idle: nobody else touches it; a busy one is closed by its request()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        timeout_s: float | None = None,
        auth: bool = True,
    ) -> Response:
        """Send one request; raise TransportError on network failure, oversize or non-JSON replies."""
        url = self._prefix + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        timeout = timeout_s if timeout_s is not None else self._timeout_s
        for attempt in (1, 2):
            conn, reused = self._checkout(timeout)
            keep = False
            try:
                status, raw, keep, got = self._exchange(conn, reused and attempt == 1, method, url, payload,
                                                        headers, path)
                break
            except _StaleConnection:
                continue  # the server closed the idle connection before reading the request: send it once more
            finally:
                self._checkin(conn, keep)
        else:  # pragma: no cover - the second attempt runs on a fresh connection, which is never stale
            raise TransportError(f"{method} {path}: connection closed by the controller")
        if not raw.strip():
            return Response(status, None, got)
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise TransportError(f"{method} {path}: HTTP {status} with a non-JSON body ({len(raw)} bytes)") from None
        return Response(status, parsed, got)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        may_retry: bool,
        method: str,
        url: str,
        payload: bytes | None,
        headers: dict[str, str],
        path: str,
    ) -> tuple[int, bytes, bool, dict[str, str]]:
        """One request/response on `conn`: (status, body, connection reusable, headers)."""
        try:
            conn.request(method, url, body=payload, headers=headers)
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            if may_retry and not self._aborted:
                raise _StaleConnection(str(exc)) from None
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        try:
            declared = resp.getheader("Content-Length")
            if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > self._max:
                raise TransportError(f"{method} {path}: response of {declared} bytes exceeds {self._max}")
            raw = resp.read(self._max + 1)
            if len(raw) > self._max:
                raise TransportError(f"{method} {path}: response exceeds {self._max} bytes")
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        # reusable only when the body was read to its end and the server keeps the connection open
        got = {name.lower(): value for name, value in resp.getheaders()}  # http.client bounds their number and size
        return resp.status, raw, resp.isclosed() and not resp.will_close, got

    def _checkout(self, timeout_s: float) -> tuple[http.client.HTTPConnection, bool]:
        """The open connection if it is fresh enough, else a new one: (connection, reused)."""
        with self._lock:
            if self._aborted:
                raise TransportError("transport closed")
            conn, self._current = self._current, None
            fresh = conn is not None and time.monotonic() - self._idle_since <= self._idle_reuse_s
        if conn is not None and fresh and conn.sock is not None:
            try:
                conn.sock.settimeout(timeout_s)
            except OSError:
                conn.close()
            else:
                with self._lock:
                    self._current, self._busy = conn, True
                return conn, True
        elif conn is not None:
            conn.close()
        return self._connect(timeout_s), False

    def _checkin(self, conn: http.client.HTTPConnection, keep: bool) -> None:
        with self._lock:
            self._busy = False
            keep = keep and not self._aborted
            if keep:
                self._current, self._idle_since = conn, time.monotonic()
            elif self._current is conn:
                self._current = None
        if not keep:
            conn.close()

    def _connect(self, timeout_s: float) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._ssl is not None:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout_s, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout_s)
        with self._lock:
            if self._aborted:
                raise TransportError("transport closed")
            self._current, self._busy = conn, True
        try:
            conn.connect()
        except OSError as exc:
            self._checkin(conn, False)
            raise TransportError(f"connect to {self._host}:{self._port}: {exc}") from None
        self.connects += 1
        with self._lock:
            aborted = self._aborted
        if aborted:  # abort() ran between registration and connect: it could not shut the socket
            self._checkin(conn, False)
            raise TransportError("transport closed")
        return conn


class _StaleConnection(Exception):
    """A reused keep-alive connection failed before any response arrived."""
