"""A body over the size limit always reaches the client as a complete 413 envelope, over a raw socket.

Why: the controller answered 413 and closed the connection while the client was still sending. Closing a
socket with unread bytes makes the kernel send a reset: the client saw a broken pipe or a reset on
read, and sometimes lost the 413 itself. Now the controller half-closes after the answer and drains
(discards) what is still arriving, for a bounded time and number of bytes, as proxies do.

Two client shapes, each with Content-Length and with chunked encoding, at 4x and 50x the limit:
- a careful client (like curl) stops sending once the answer is readable, then reads to the end;
- a blunt client (like many HTTP libraries) sends the whole body, then reads.
Success is strict: no send error, a complete response whose body is the JSON error envelope, then a
clean end of stream (no reset). Loopback only; no timing thresholds.
"""

from __future__ import annotations

import json
import select
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from harness import ControllerProcess

LIMIT = 1_048_576  # the controller's default max_body_bytes
PIECE = 65_536
ROUNDS = 20


def head(port: int, total: int, chunked: bool) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    return (f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer not-checked-before-the-body\r\n{framing}\r\n\r\n").encode()


def pieces(total: int, chunked: bool) -> Iterator[bytes]:
    block = b"a" * PIECE
    left = total
    while left > 0:
        n = min(PIECE, left)
        yield (b"%x\r\n" % n + block[:n] + b"\r\n") if chunked else block[:n]
        left -= n
    if chunked:
        yield b"0\r\n\r\n"


@dataclass
class Outcome:
    send_error: str | None
    read_error: str | None
    status: int | None
    code: str | None
    complete: bool

    @property
    def good(self) -> bool:
        return (self.send_error is None and self.read_error is None and self.status == 413
                and self.code == "payload_too_large" and self.complete)

    def key(self) -> str:
        return (f"status={self.status} code={self.code} complete={self.complete} "
                f"send_error={self.send_error} read_error={self.read_error}")


def parse(raw: bytes) -> tuple[int | None, str | None, bool]:
    """Status, envelope code, and whether the body is exactly Content-Length bytes of the envelope."""
    head_bytes, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None, None, False
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = dict(line.split(":", 1) for line in lines[1:])
    length = int({k.lower(): v for k, v in fields.items()}.get("content-length", "-1"))
    try:
        envelope = json.loads(body)
        code = envelope["error"]["code"]
        whole = set(envelope) == {"error"} and set(envelope["error"]) >= {"code", "message", "details"}
    except (ValueError, KeyError, TypeError):
        return status, None, False
    return status, code, whole and length == len(body)


def send_oversized(port: int, total: int, chunked: bool, careful: bool) -> Outcome:
    send_error = read_error = None
    raw = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(head(port, total, chunked))
            for piece in pieces(total, chunked):
                if careful and select.select([s], [], [], 0)[0]:
                    break  # the answer is here: stop sending, like curl
                s.sendall(piece)
        except OSError as exc:
            send_error = type(exc).__name__
        try:
            while chunk := s.recv(65_536):
                raw += chunk
        except OSError as exc:
            read_error = type(exc).__name__
    status, code, complete = parse(raw)
    return Outcome(send_error, read_error, status, code, complete)


@pytest.mark.parametrize("careful", [True, False], ids=["stops-on-answer", "sends-everything"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("times", [4, 50])
def test_an_oversized_body_always_gets_the_whole_413(controller: ControllerProcess, times: int, chunked: bool,
                                                     careful: bool) -> None:
    outcomes = [send_oversized(controller.port or 0, times * LIMIT, chunked, careful) for _ in range(ROUNDS)]
    tally = Counter(o.key() for o in outcomes)
    assert all(o.good for o in outcomes), dict(tally)


def test_the_controller_still_serves_after_the_floods(controller: ControllerProcess) -> None:
    with controller.admin() as c:
        assert c.get("/v1/jobs").status_code == 200
    ok = send_oversized(controller.port or 0, LIMIT + 1, chunked=False, careful=False)
    assert ok.good, ok.key()
