"""A real TCP proxy in front of the controller that can drop a response on the floor.

Used to prove that a submit whose response is lost is retried with the same idempotency key and
yields exactly one job: the request really reaches the controller; only the answer is discarded.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class DropOnceProxy:
    def __init__(self, upstream_port: int, drop_prefix: bytes = b"POST /v1/jobs ") -> None:
        self.upstream_port = upstream_port
        self.drop_prefix = drop_prefix
        self.armed = False
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DropOnceProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        up = socket.create_connection(("127.0.0.1", self.upstream_port))
        first = client.recv(65536)
        drop = self.armed and first.startswith(self.drop_prefix)
        if drop:
            self.armed = False
        up.sendall(first)
        threading.Thread(target=self._pump, args=(client, up), daemon=True).start()
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                if drop:  # the controller answered; the client never hears it
                    self.dropped += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, up):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
