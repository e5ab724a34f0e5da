"""A small round-robin TCP proxy: the load balancer in front of several controller replicas, for tests and benches.

Why our own: the scale-out tests (tests/scaleout) and `bench/e2e_latency.py --replicas 2` need "N replicas
behind a load balancer" on a machine without a container engine or nginx/haproxy, and the behaviour that
matters is simple to state: each new client connection goes to the next backend in turn (HTTP keep-alive
connections stay on the backend they started on, as with a TCP load balancer), and a backend that refuses
the connection is skipped for the next one. A connection that was open to a backend that dies is closed,
as a real balancer would; the client reconnects and lands on a live replica.

    .venv/bin/python bench/rr_proxy.py --port-file /tmp/proxy.port 127.0.0.1:8001 127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from itertools import count
from pathlib import Path

CHUNK = 64 * 1024


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close `dst`; any transport error ends the copy."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await src.read(CHUNK):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()


class RoundRobinProxy:
    """Listens on host:port (0 = ephemeral); per connection, the next backend that accepts one."""

    def __init__(self, backends: list[tuple[str, int]], host: str = "127.0.0.1", port: int = 0) -> None:
        if not backends:
            raise ValueError("at least one backend")
        self.backends = backends
        self.host, self.port = host, port
        self._turn = count()
        self.connections = [0] * len(backends)  # per backend: connections it accepted through us
        self._server: asyncio.Server | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        start = next(self._turn)
        for i in range(len(self.backends)):
            index = (start + i) % len(self.backends)
            try:
                pair = await asyncio.wait_for(asyncio.open_connection(*self.backends[index]), 5.0)
            except (OSError, TimeoutError):
                continue  # down: the next one
            self.connections[index] += 1
            return pair
        return None

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            client_w.close()
            return
        up_r, up_w = upstream
        upload = asyncio.ensure_future(_pipe(client_r, up_w))
        try:
            # The backend's side decides: once it has closed (or died), the client connection goes too,
            # so a client idling on a keep-alive connection to a dead replica learns of it at once.
            await _pipe(up_r, client_w)
        finally:
            upload.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upload
            for w in (up_w, client_w):
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()

    async def start(self) -> int:
        """Bind and serve in the background; returns the port."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def parse_backend(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _main(args: argparse.Namespace) -> None:
    proxy = RoundRobinProxy([parse_backend(b) for b in args.backends], args.host, args.port)
    port = await proxy.start()
    if args.port_file:
        tmp = Path(f"{args.port_file}.tmp")
        tmp.write_text(f"{port}\n")
        tmp.replace(args.port_file)  # readers never see a half-written port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await proxy.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backends", nargs="+", help="host:port of each backend, in round-robin order")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = ephemeral (see --port-file)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    asyncio.run(_main(ap.parse_args()))


if __name__ == "__main__":
    main()
