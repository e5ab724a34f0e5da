"""Limits uvicorn's HTTP parser does not set: head size, deadlines for head and body, a connection cap.

With httptools (what uvicorn picks when it is installed) a request head of any size is buffered in full
before the app sees it, a client that drips header or body bytes holds its connection for ever
(slowloris), and nothing bounds how many connections are open. This protocol
- drops a head past `max_head_bytes` while it is still arriving (400 `headers_too_large`);
- closes a connection that has not completed its request head within `head_timeout_s` of connecting or
  of starting the request, or its body within `body_timeout_s` of the end of the head;
- answers a connection beyond `max_connections` in all, or beyond `max_per_ip` from one peer address,
  with a 503 in the error envelope and closes it, before it reads anything (uvicorn's own
  `limit_concurrency` answers in plain text, after the head, and counts everyone together);
- closes a connection whose request body is still arriving (a 413 for an oversized body, any early
  answer) the way proxies do, a "lingering close": half-close after the answer, then read and discard
  what still arrives, for at most `linger_s` (and `linger_idle_s` without a byte, and `linger_bytes`
  in all), then close. Closing at once with unread bytes makes the kernel send a reset: the client
  saw a broken pipe, or a reset that discarded the 413 it had not read yet.
What httptools cannot parse gets a 400 `bad_request` envelope, not uvicorn's plain text. The
app-level HeaderLimitMiddleware still answers smaller floods with a 431 envelope. Without
httptools, uvicorn's h11 parser caps an incomplete head at 16 KiB itself (no deadlines, no cap).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from kitgate.controller.errors import envelope


def raw_envelope_response(status_line: str, code: str, message: str, details: dict[str, Any],
                          extra_headers: str = "") -> bytes:
    """A whole `connection: close` response in the error envelope, for the parser level (no app, no
    request id): what uvicorn would answer there in plain text."""
    body = json.dumps(envelope(code, message, details, None)).encode()
    head = (f"HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"{extra_headers}connection: close\r\n\r\n")
    return head.encode() + body


LINGER_S = 5.0  # what a lingering close may last in all (nginx: lingering_time 30 s)
LINGER_IDLE_S = 2.0  # ... and without a byte arriving (nginx: lingering_timeout 5 s)
LINGER_BYTES = 64 * 1_048_576  # ... and how much it discards: a client still sending past this is cut off


JOIN_MAX_BYTES = 65_536  # a body up to this size is sent in one write with the head it follows


class _CycleTransport:
    """The transport as one request/response cycle sees it: the same, except that
    - its close() asks the protocol, which lingers when the request body is still arriving;
    - the cycle's first write (the response head) is held until the next one (the body), so a whole
      answer leaves in one send(): uvicorn writes the head and the body apart, two system calls and two
      segments on loopback for every JSON answer. A head with no body in the same turn of the event
      loop (a stream) is sent on the next turn, so nothing waits on it."""

    def __init__(self, transport: asyncio.Transport, close: Callable[[], None],
                 loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._close = close
        self._loop = loop
        self._first = True
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held, self._held = self._held, None
        if held is not None:
            if len(data) <= JOIN_MAX_BYTES:
                self._transport.write(held + data)
                return
            self._transport.write(held)
        elif self._first:
            self._first = False
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def bounded_http_protocol(max_head_bytes: int, head_timeout_s: float, body_timeout_s: float,
                          max_connections: int, max_per_ip: int,
                          exempt: Callable[[str], bool] = lambda _ip: False, *,
                          linger_s: float = LINGER_S, linger_idle_s: float = LINGER_IDLE_S,
                          linger_bytes: int = LINGER_BYTES) -> Any:
    """The protocol class for uvicorn.Config(http=...), or "auto" when httptools is not installed.

    `exempt(ip)` names peers the per-address cap does not apply to (trusted proxies: every client behind
    them shares their address). `linger_*` bound the lingering close (see the module docstring)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"
    per_ip: Counter[str] = Counter()  # open connections per peer address; touched on the event loop only
    crowded = raw_envelope_response(
        "503 Service Unavailable", "too_many_connections",
        f"this address already holds the maximum of {max_per_ip} connections; close some or retry shortly",
        {"max_connections_per_ip": max_per_ip}, "retry-after: 1\r\n")
    overload = raw_envelope_response(
        "503 Service Unavailable", "too_many_connections",
        f"the controller already holds its maximum of {max_connections} connections; retry shortly",
        {"max_connections": max_connections}, "retry-after: 1\r\n")
    head_too_large = raw_envelope_response(
        "400 Bad Request", "headers_too_large",
        f"the request head is over {max_head_bytes} bytes", {"max_head_bytes": max_head_bytes})
    malformed = raw_envelope_response(
        "400 Bad Request", "bad_request", "the request is not valid HTTP/1.1 (request line or headers)", {})

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """Counts the bytes that arrive while a request head is incomplete (from the connection's start or
        the end of the previous request to the end of the headers): bounded by the cap plus one read.
        One timer runs while a request is incomplete: the head's deadline, then the body's, then, when an
        answer went out before the body was in, the lingering close's."""

        _in_head = True
        _in_body = False
        _head_bytes = 0
        _timer: asyncio.TimerHandle | None = None
        _counted_ip: str | None = None
        _lingering = False
        _linger_left = 0
        _linger_until = 0.0

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._timer = self.loop.call_later(seconds, self._timed_out)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _timed_out(self) -> None:
            self._timer = None
            if (self._in_head or self._in_body or self._lingering) and not self.transport.is_closing():
                self.transport.close()

        # ---- lingering close ---------------------------------------------------------------------
        def _close_or_linger(self) -> None:
            """A cycle closes the connection (a `connection: close` answer, an error): at once when the
            request is complete, else half-close and discard what the client is still sending."""
            if not self._in_body or self.transport.is_closing():
                self.transport.close()
                return
            self._in_body, self._lingering = False, True
            self._linger_left = linger_bytes
            self._linger_until = self.loop.time() + linger_s
            self._arm(min(linger_idle_s, linger_s))
            if self.transport.can_write_eof():  # plain TCP: FIN once the answer is flushed; TLS cannot
                self.transport.write_eof()
            self.flow.resume_reading()  # uvicorn paused it while the app was not reading the body

        def _discard(self, data: bytes) -> None:
            self._linger_left -= len(data)
            left = self._linger_until - self.loop.time()
            if self._linger_left < 0 or left <= 0:
                self.transport.close()  # still sending past the bound: cut off (a reset, as before)
            else:
                self._arm(min(linger_idle_s, left))

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._lingering:
                self._unset_keepalive_if_required()  # the linger timer closes this connection, not keep-alive

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                self._answer_and_close(overload)
                return
            ip = self.client[0] if self.client else None
            if ip is not None and not exempt(ip):
                self._counted_ip = ip
                per_ip[ip] += 1
                if per_ip[ip] > max_per_ip:
                    self._answer_and_close(crowded)
                    return
            self._arm(head_timeout_s)  # a connection that never completes a request head is closed

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            ip, self._counted_ip = self._counted_ip, None
            if ip is not None:
                per_ip[ip] -= 1
                if per_ip[ip] <= 0:
                    del per_ip[ip]
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return  # refused (over the connection cap) or timed out: nothing more is parsed
            if self._lingering:
                self._discard(data)  # the rest of a body already answered: never parsed
                return
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self._answer_and_close(head_too_large)  # the head alone is over the cap

        def send_400_response(self, msg: str) -> None:
            """uvicorn calls this for what httptools cannot parse: the envelope instead of plain text."""
            self._answer_and_close(malformed)

        def _answer_and_close(self, response: bytes) -> None:
            self._disarm()
            self.transport.write(response)
            self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._timer is None:
                self._arm(head_timeout_s)

        def on_headers_complete(self) -> None:
            self._in_head, self._in_body = False, True
            self._arm(body_timeout_s)  # the body's own deadline (a request without one completes at once)
            super().on_headers_complete()
            if self.cycle is not None and not isinstance(self.cycle.transport, _CycleTransport):
                self.cycle.transport = _CycleTransport(  # type: ignore[assignment]
                    self.transport, self._close_or_linger, self.loop)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_body = False
            self._disarm()
            self._in_head = True  # what follows is the next request's head
            self._head_bytes = 0

    return BoundedHttpToolsProtocol
