"""Reading `GET /v1/events` (Server-Sent Events) on the client: a small, capped line parser.

Why our own and not a dependency: the SDK installs with httpx and pydantic only, and the part of the
SSE format the controller sends (`event:`, `id:`, `data:`, comments, `retry:`) is a few lines. What a
broken or hostile endpoint sends is bounded: one event's data may not exceed `max_event_bytes`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from kitgate.client.errors import BadResponse, ResponseTooLarge
from kitgate.client.models import LiveEvent

MAX_EVENT_BYTES = 1024 * 1024


@dataclass
class SseParser:
    """Feed it lines (without their line ending); it returns a LiveEvent at each blank line that ends one."""

    max_event_bytes: int = MAX_EVENT_BYTES
    _data: list[str] = field(default_factory=list)
    _size: int = 0
    _event: str | None = None

    def feed(self, line: str) -> LiveEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._size += len(value) + 1
            if self._size > self.max_event_bytes:
                raise ResponseTooLarge(f"an event exceeds {self.max_event_bytes} bytes", code="response_too_large")
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None  # id and retry are carried inside the data, or not needed

    def _dispatch(self) -> LiveEvent | None:
        data, event = "\n".join(self._data), self._event
        self._data, self._size, self._event = [], 0, None
        if not data:
            return None
        try:
            ev = LiveEvent.model_validate(json.loads(data))
        except (ValueError, ValidationError):
            raise BadResponse("the controller sent an event that is not a kitgate LiveEvent",
                              code="bad_response") from None
        if event is not None and event != ev.type:
            raise BadResponse("an event's type does not match its data", code="bad_response")
        return ev


def parse_lines(lines: Iterable[str], max_event_bytes: int = MAX_EVENT_BYTES) -> Iterator[LiveEvent]:
    """Events from an iterable of lines (a whole stream, or a recorded one in tests)."""
    parser = SseParser(max_event_bytes)
    for line in lines:
        ev = parser.feed(line)
        if ev is not None:
            yield ev
