"""A bare socket `exec` bridge: the unsafe baseline that kitgate replaces, measured in the same run.

Why it exists: the usual Kit MCP bridges are a TCP server that reads a script and `exec()`s it, with
no authentication, no compile checks, no isolation, no audit and no durable journal. Their answer
time is what users compare kitgate with, so `bench/e2e_latency.py` starts this one on the same
machine, drives it with the same client pattern and prints kitgate's p50 as a multiple of it
("the cost of safety"). NEVER run this outside a benchmark: anyone who can reach the port runs any
code as this user. It binds to 127.0.0.1 only.

Wire format (our own, minimal): a request is a 4-byte big-endian length and that many bytes of UTF-8
source; the answer is a 4-byte length and a JSON object {"status": "succeeded"|"failed", "error"?}.
Scripts run one at a time under a lock, as bridges that hand the script to Kit's main loop do.

    .venv/bin/python bench/exec_bridge.py --port-file /tmp/bridge.port
"""

from __future__ import annotations

import argparse
import json
import socket
import socketserver
import struct
import threading
from pathlib import Path
from typing import Any

_LEN = struct.Struct(">I")
MAX_SCRIPT = 1024 * 1024  # a benchmark tool, but still no unbounded reads


def recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """Read exactly n bytes; None when the peer closed the connection first."""
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LEN.pack(len(payload)) + payload)


def recv_frame(sock: socket.socket) -> bytes | None:
    head = recv_exact(sock, _LEN.size)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    if size > MAX_SCRIPT:
        raise ValueError(f"frame of {size} bytes is larger than {MAX_SCRIPT}")
    return recv_exact(sock, size)


class _Handler(socketserver.BaseRequestHandler):
    server: BridgeServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                script = recv_frame(sock)
            except (OSError, ValueError):
                return
            if script is None:
                return
            answer: dict[str, Any] = {"status": "succeeded"}
            with self.server.exec_lock:
                try:
                    exec(script.decode("utf-8"), dict(self.server.namespace))  # noqa: S102 - the unsafe baseline
                except Exception as exc:  # noqa: BLE001 - reported to the client like the bridges do
                    answer = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            try:
                send_frame(sock, json.dumps(answer).encode())
            except OSError:
                return


class BridgeServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.exec_lock = threading.Lock()
        self.namespace: dict[str, Any] = {"__name__": "__bridge__"}
        try:  # what a Kit bridge hands scripts: the open stage (usd-core stands in for Kit's)
            from pxr import Usd

            self.namespace["stage"] = Usd.Stage.CreateInMemory()
        except ImportError:
            pass


class BridgeClient:
    """One keep-alive connection, one script at a time: the same pattern as the kitgate client."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run(self, script: str) -> dict[str, Any]:
        send_frame(self.sock, script.encode())
        raw = recv_frame(self.sock)
        if raw is None:
            raise ConnectionError("bridge closed the connection")
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def close(self) -> None:
        self.sock.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    args = ap.parse_args()
    server = BridgeServer(args.port)
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(server.server_address[1]))
        tmp.replace(args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
