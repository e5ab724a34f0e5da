"""Live output while a job runs: coalesce what the script prints and pass it on without ever blocking it.

Why: the final result carries the whole (capped) output, but a watcher wants to see a long job's
progress as it happens. The script's `print` writes into the job's capped buffer (hooks._Output); the
same kept text is also handed to a `ThrottledText`, which passes it on at most every `interval_s`
(the first print at once, so a job that prints and then works for a while is seen immediately) and
whenever its buffer is large. Text past the policy's `output_bytes` never gets here: the cap bounds
the live stream as it bounds the result. The time check runs when a print() call ends (`tick`), so
a line and its newline travel together.

`PipeWriter` is the isolated child's end: a non-blocking pipe to the fork server. A full pipe never
stalls the job: the text waits in a bounded buffer for the next flush, and past that bound the oldest
pending text is dropped (counted in `dropped_bytes`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

DEFAULT_INTERVAL_S = 0.1
FLUSH_AT_CHARS = 8192
PIPE_PENDING_MAX = 256 * 1024


class ThrottledText:
    """Collects text; `emit(text)` gets it coalesced. Never raises from `emit` into the script."""

    __slots__ = ("_emit", "_interval", "_parts", "_size", "_last", "_clock", "broken")

    def __init__(self, emit: Callable[[str], None], interval_s: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._emit = emit
        self._interval = interval_s
        self._parts: list[str] = []
        self._size = 0
        self._clock = clock
        self._last = -1e9
        self.broken = False

    def __call__(self, text: str) -> None:
        """Buffer a piece of one print() (flushed early only when the buffer is large)."""
        if self.broken or not text:
            return
        self._parts.append(text)
        self._size += len(text)
        if self._size >= FLUSH_AT_CHARS:
            self.flush()

    def tick(self) -> None:
        """A print() call ended: pass the text on if the interval has passed (so whole prints travel)."""
        if self._parts and self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        """Hand over whatever is buffered now (also called once when the job ends)."""
        if not self._parts or self.broken:
            return
        text = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        self._last = self._clock()
        try:
            self._emit(text)
        except Exception:  # noqa: BLE001 - a broken live channel must not fail the job; the result still has it
            self.broken = True


class PipeWriter:
    """The child's non-blocking end of its live-output pipe (UTF-8 bytes, no framing)."""

    __slots__ = ("fd", "_pending", "dropped_bytes")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._pending = b""
        self.dropped_bytes = 0

    def __call__(self, text: str) -> None:
        data = self._pending + text.encode("utf-8", "replace")
        if len(data) > PIPE_PENDING_MAX:  # the reader is far behind: keep the newest text
            self.dropped_bytes += len(data) - PIPE_PENDING_MAX
            data = data[-PIPE_PENDING_MAX:]
        try:
            written = os.write(self.fd, data)
        except BlockingIOError:
            written = 0
        self._pending = data[written:]

    def close(self) -> None:
        """Last attempt to hand over what is pending, then close (the reader sees EOF)."""
        if self._pending:
            with contextlib.suppress(OSError):
                self._pending = self._pending[os.write(self.fd, self._pending):]
        with contextlib.suppress(OSError):
            os.close(self.fd)
