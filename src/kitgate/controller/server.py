"""Run the controller under uvicorn on a socket we bind ourselves, so `--port 0` can report its port."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kitgate.controller.settings import Settings


class StartupError(Exception):
    """A configuration or environment problem worth one clear line, not a traceback."""


def check_runtime(settings: Settings) -> None:
    """Fail fast, with a message naming the setting, before anything listens."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StartupError(
            f"data dir {str(settings.data_dir)!r} (KITGATE_DATA_DIR) is not writable: {exc.strerror}"
        ) from None
    check_tls(settings)
    check_open_files(settings)
    if settings.policy_dir is not None and not settings.policy_dir.is_dir():
        raise StartupError(f"policy dir {str(settings.policy_dir)!r} (KITGATE_POLICY_DIR) is not a directory")
    if settings.asset_root is not None and not settings.asset_root.is_dir():
        raise StartupError(f"asset root {str(settings.asset_root)!r} (KITGATE_ASSET_ROOT) is not a directory; "
                           "relative asset_roots of the policies resolve against it")
    try:
        from kitgate.sandbox.policy import PolicyError, load_policy
    except ImportError:  # sandbox not installed: nothing more to check
        return
    try:
        load_policy(settings.default_policy, settings.policy_dir, settings.asset_root)
    except PolicyError as exc:
        raise StartupError(
            f"default policy {settings.default_policy!r} (KITGATE_DEFAULT_POLICY) cannot be loaded: {exc}"
        ) from None


# Descriptors the controller needs besides its connections: SQLite and its WAL, the audit log and its
# anchor, the listening socket, log files, and what Python and uvloop keep open.
SPARE_FDS = 64


def check_open_files(settings: Settings) -> None:
    """Make room for KITGATE_MAX_CONNECTIONS: past RLIMIT_NOFILE the loop cannot accept (or open SQLite)."""
    import resource

    need = settings.max_connections + SPARE_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise StartupError(
                f"KITGATE_MAX_CONNECTIONS={settings.max_connections} needs {need} open files, but the hard limit "
                f"(ulimit -Hn) is {hard}: lower the setting or raise the limit"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def check_tls(settings: Settings) -> None:
    """Both files readable and a matching pair, else one line naming the option (never the key's content)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return
    import ssl

    for label, path in (("--tls-cert (KITGATE_TLS_CERT)", settings.tls_cert),
                        ("--tls-key (KITGATE_TLS_KEY)", settings.tls_key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise StartupError(f"{label} {str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(settings.tls_cert, settings.tls_key)
    except (ssl.SSLError, ValueError) as exc:
        raise StartupError(
            f"--tls-cert/--tls-key ({str(settings.tls_cert)!r}, {str(settings.tls_key)!r}) are not a PEM certificate "
            f"and its private key: {getattr(exc, 'reason', None) or exc.__class__.__name__}"
        ) from None


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it
    # Nagle + delayed ACK add ~40 ms to every keep-alive response (headers and body are two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port} (KITGATE_HOST/KITGATE_PORT): {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _write_port_file(path: Path, port: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def serve(settings: Settings, port_file: Path | None = None,
          on_started: Callable[[Any, int], Awaitable[None]] | None = None,
          on_stopping: Callable[[Any], Awaitable[None]] | None = None,
          on_stopped: Callable[[], None] | None = None) -> None:
    """Blocks until SIGINT/SIGTERM. The port file appears only once the app has started.

    `on_started(app, port)` runs once serving (the CLI prints where it listens); `on_stopping(app)` when a
    stop begins, `on_stopped()` when it is done. The first two are awaited on the server's loop: they may
    read the store, which is async."""
    import uvicorn

    from kitgate.controller.app import create_app
    from kitgate.controller.logging import configure_logging
    from kitgate.controller.security.httpguard import bounded_http_protocol
    from kitgate.controller.security.netguard import in_networks, parse_networks

    check_runtime(settings)
    configure_logging(settings.log_level, settings.log_json)
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    app = create_app(settings)
    proxies = parse_networks(settings.trusted_proxies)
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,
        access_log=False,  # our own structured request log replaces uvicorn's
        proxy_headers=False,  # client addresses are the security layer's call (trusted_proxies), never a header's
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        # caps the request head while it arrives, puts deadlines on head and body, caps connections
        http=bounded_http_protocol(max(65_536, 4 * settings.max_header_bytes), settings.header_timeout_s,
                                   settings.body_timeout_s, settings.max_connections,
                                   settings.max_connections_per_ip, lambda ip: in_networks(ip, proxies)),
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
    )

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if port_file is not None and self.started:
                _write_port_file(port_file, port)
            if on_started is not None and self.started:
                await on_started(app, port)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if on_stopping is not None:
                await on_stopping(app)
            app.state.kitgate.notifier.stop()  # answer pending long-polls now instead of cancelling them
            app.state.kitgate.events.close()  # and end open event streams (clients reconnect elsewhere)
            await super().shutdown(sockets=sockets)
            if on_stopped is not None:  # here, not after run(): uvicorn re-raises SIGTERM/SIGINT once stopped
                on_stopped()

    server = _Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise StartupError("the controller failed to start; see the log above")
