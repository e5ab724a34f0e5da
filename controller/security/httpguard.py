"""Limits uvicorn's HTTP parser does not set: a cap on the request head's size and a deadline to send it.

With httptools (what uvicorn picks when it is installed) a request head of any size is buffered in full
before the app sees it, and a client that drips header bytes holds its connection for ever (slowloris).
This protocol drops a head past `max_head_bytes` while it is still arriving (uvicorn's plain 400), and
closes a connection that has not completed its request head within `head_timeout_s` of connecting or of
starting the request. The app-level HeaderLimitMiddleware still answers smaller floods with a 431 envelope.
Without httptools, uvicorn's h11 parser caps an incomplete head at 16 KiB itself (no deadline).
"""

from __future__ import annotations

import asyncio
from typing import Any


def bounded_http_protocol(max_head_bytes: int, head_timeout_s: float) -> Any:
    """The protocol class for uvicorn.Config(http=...), or "auto" when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """Counts the bytes that arrive while a request head is incomplete (from the connection's start or
        the end of the previous request to the end of the headers): bounded by the cap plus one read."""

        _in_head = True
        _head_bytes = 0
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(head_timeout_s, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self._in_head and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # a connection that never completes a request head is closed

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self.send_400_response("Invalid HTTP request received.")  # the head alone is over the cap

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True  # what follows is the next request's head
            self._head_bytes = 0

    return BoundedHttpToolsProtocol
