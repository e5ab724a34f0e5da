"""The parent's handle on one fork server process: start it, hand it a job, read its answer, stop it.

Why apart from the executor: this is the process plumbing (socket frames, timeouts, the bootstrap
that puts the host's sys.path into a `python3 -I` interpreter, the server's environment) and knows
nothing of policies, stages or deltas. The executor decides what to send; this module only carries
it and says when the server is gone (`ServerLost`) or cannot be started (`SandboxUnavailable`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kitgate.sandbox.process.forkserver import recv_frame, send_frame

READY_TIMEOUT_S = 60.0
SERVER_GRACE_S = 5.0  # beyond the server's own hard kill: the server itself is wedged
ACK_TIMEOUT_S = 30.0  # parse request + snapshot + fork; beyond this the server is wedged (job not started)
RESULT_OVERHEAD = 256 * 1024
BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL")
USD_LOADER_ENV_KEYS = ("LD_LIBRARY_PATH", "PXR_PLUGINPATH_NAME")
# The server's first frame on its socket is the host's sys.path (JSON), not an argument: one argument
# is capped at 128 KiB on Linux (MAX_ARG_STRLEN) and Kit's sys.path can be longer. The bootstrap reads
# that frame with the stdlib alone (nothing of kitgate is importable before it) and then hands the same
# socket to the server.
MAX_SYS_PATH_BYTES = 16 * 1024 * 1024
_BOOTSTRAP = (
    "import sys, json, socket\n"
    "s = socket.socket(fileno=int(sys.argv[1]))\n"
    "def rx(n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = s.recv(n - len(b))\n"
    "        if not c: raise SystemExit('kitgate fork server: the host closed the socket before sys.path')\n"
    "        b += c\n"
    "    return b\n"
    "n = int.from_bytes(rx(4), 'big')\n"
    f"if n > {MAX_SYS_PATH_BYTES}: raise SystemExit('kitgate fork server: sys.path frame too large')\n"
    "sys.path[:0] = json.loads(rx(n))\n"
    "from kitgate.sandbox.process.forkserver import main\n"
    "main(sys.argv[1:], sock=s)\n"
)


class SandboxUnavailable(RuntimeError):
    """The fork server could not be started or stopped answering."""


class ServerLost(Exception):
    """The server went away or stopped answering; `started`: the job may already have run."""

    def __init__(self, message: str, *, started: bool, timed_out: bool = False) -> None:
        super().__init__(message)
        self.started = started
        self.timed_out = timed_out


class ForkServerProcess:
    """Parent-side handle of one fork server process (started lazily, restarted after a crash)."""

    def __init__(self, python: str, scratch_root: Path, env: dict[str, str]) -> None:
        self.python = python
        self.scratch_root = scratch_root
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.starts = 0  # changes whenever a new server process (with empty caches) starts
        self.child_pid: int | None = None  # the child running the current job (diagnostics, tests)
        self.last_child_pid: int | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.starts += 1
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        log = open(self.scratch_root / "forkserver.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                [self.python, "-I", "-c", _BOOTSTRAP, str(child_sock.fileno()), str(self.scratch_root)],
                pass_fds=[child_sock.fileno()], env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True, cwd=self.scratch_root, close_fds=True,
            )
        except OSError as exc:
            parent_sock.close()
            raise SandboxUnavailable(f"cannot start {self.python}: {exc.strerror or exc}") from None
        finally:
            child_sock.close()
            log.close()
        self.sock = parent_sock
        try:
            parent_sock.settimeout(READY_TIMEOUT_S)
            send_frame(parent_sock, json.dumps(paths).encode())
            ready = self._recv_json(READY_TIMEOUT_S)
        except (OSError, ServerLost) as exc:
            tail = (self.scratch_root / "forkserver.log").read_bytes()[-2000:].decode("utf-8", "replace")
            self.stop()
            raise SandboxUnavailable(f"fork server did not start: {exc}; {tail}") from None
        if not ready.get("ready"):
            self.stop()
            raise SandboxUnavailable("fork server did not start")

    def _recv(self, timeout_s: float, max_bytes: int) -> bytes:
        assert self.sock is not None
        self.sock.settimeout(max(0.01, timeout_s))
        try:
            data = recv_frame(self.sock, max_bytes)
        except TimeoutError:
            raise ServerLost("no answer in time (wedged)", started=True, timed_out=True) from None
        except (OSError, ValueError) as exc:
            raise ServerLost(f"connection failed ({type(exc).__name__})", started=True) from None
        if data is None:
            raise ServerLost("connection closed", started=True)
        return data

    def _recv_json(self, timeout_s: float) -> dict[str, Any]:
        try:
            data = json.loads(self._recv(timeout_s, 1024 * 1024))
        except ValueError:
            raise ServerLost("malformed frame", started=True) from None
        if not isinstance(data, dict):
            raise ServerLost("malformed frame", started=True)
        return data

    def call(self, request: dict[str, Any], timeout_s: float, result_cap: int,
             on_event: Callable[[dict[str, Any]], None] | None = None) -> tuple[dict[str, Any], bytes]:
        """Send one request; the answer is (header, raw result). `on_event` (optional, must not block) sees
        the "started" frame and, for a request with `live`, each {"live": text} frame before the header."""
        if not self.alive:
            self.stop()
            self.start()
        assert self.sock is not None
        try:
            self.sock.settimeout(30.0)
            send_frame(self.sock, json.dumps(request).encode())
        except OSError as exc:
            self.stop()
            raise ServerLost(f"send failed ({exc})", started=False) from None
        try:
            ack = self._recv_json(ACK_TIMEOUT_S)  # "started": the server handed the job to a child
        except ServerLost as exc:
            self.stop()
            raise ServerLost(str(exc), started=False, timed_out=exc.timed_out) from None
        pid = ack.get("started")
        self.child_pid = self.last_child_pid = pid if isinstance(pid, int) else None
        deadline = time.monotonic() + timeout_s
        if on_event is not None and isinstance(pid, int):
            with contextlib.suppress(Exception):  # a watcher's failure never costs the job
                on_event(ack)
        try:
            header = self._recv_json(timeout_s)
            while on_event is not None and set(header) == {"live"}:  # printed text while the job runs
                with contextlib.suppress(Exception):
                    on_event(header)
                header = self._recv_json(deadline - time.monotonic())
            result = self._recv(deadline - time.monotonic() + 1.0, result_cap + RESULT_OVERHEAD)
        except ServerLost:
            self.stop()
            raise
        finally:
            self.child_pid = None
        return header, result

    def kill(self) -> None:
        """SIGKILL the server (safe from another thread: no state changes; PDEATHSIG ends its child)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop(self, graceful: bool = False) -> None:
        """Close the socket; a graceful stop lets the server exit on EOF, otherwise it is killed."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=2.0 if graceful else 0.0)  # EOF on its socket makes it exit
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _checked_server_env(values: dict[str, str]) -> dict[str, str]:
    unknown = set(values) - set(USD_LOADER_ENV_KEYS)
    if unknown:
        raise ValueError(f"server_env may only set {', '.join(USD_LOADER_ENV_KEYS)}, not {', '.join(sorted(unknown))}")
    return {k: str(v) for k, v in values.items() if v}


def _has_shared_libs(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(p.name.startswith("lib") and ".so" in p.name for p in folder.iterdir())
    except OSError:
        return False


def usd_loader_env(pxr_dir: Path | None = None) -> dict[str, str]:
    """The loader and plugin paths a fresh interpreter needs to import the host's `pxr`, derived from it.

    WHY: in Kit, `pxr` comes from the omni.usd.libs extension and its shared libraries sit in that
    extension's `bin/` folder, which Kit's own process found through Kit's loader setup; a fresh
    `python3 -I` finds neither them nor their `plugInfo.json` (`bin/usd/`). usd-core wheels need nothing
    (their RPATH points at `usd_core.libs/`), and then this returns {}. Only folders next to the `pxr`
    package (or one level up) are considered; nothing is taken from the host's environment.
    """
    if pxr_dir is None:
        import pxr

        pxr_dir = Path(pxr.__file__).resolve().parent
    libdirs: list[Path] = []
    for base in (pxr_dir.parent, pxr_dir.parent.parent):
        libdirs += [d for d in (base / "bin", base / "lib") if _has_shared_libs(d) and d not in libdirs]
        if libdirs:
            break
    plugins = [d / "usd" for d in libdirs if (d / "usd" / "plugInfo.json").is_file()]
    env: dict[str, str] = {}
    if libdirs:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(str(d) for d in libdirs)
    if plugins:
        env["PXR_PLUGINPATH_NAME"] = os.pathsep.join(str(d) for d in plugins)
    return env


def server_environment(env_passthrough: Iterable[str] = (), server_env: dict[str, str] | None = None) -> dict[str, str]:
    """Exactly what the fork server process gets: BASE_ENV_KEYS and the host's named `env_passthrough`
    keys (copied from this process), one USD thread, and the host-derived `server_env` (only the
    USD_LOADER_ENV_KEYS names). Job children see less still (forkserver.CHILD_ENV_KEYS)."""
    env = {k: os.environ[k] for k in (*BASE_ENV_KEYS, *env_passthrough) if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["PXR_WORK_THREAD_LIMIT"] = "1"  # USD must not start worker threads in the server
    env.update(_checked_server_env(server_env or {}))
    return env
