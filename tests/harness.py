"""Real processes for tests: `kitgate serve` on 127.0.0.1 with an ephemeral port and a temp data dir.

Shared by every test package (pytest puts tests/ on sys.path, so `import harness`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import httpx

VENV_BIN = Path(sys.executable).parent
KITGATE = str(VENV_BIN / "kitgate")
START_TIMEOUT_S = 60.0


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without any KITGATE_* leaking in, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITGATE_")}
    env.setdefault("KITGATE_LOG_LEVEL", "warning")
    env.update(extra or {})
    return env


def run_kitgate(args: Iterable[str], env: dict[str, str] | None = None, timeout: float = 60.0,
                check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([KITGATE, *args], env=clean_env(env), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"kitgate {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


class ManagedProcess:
    """A kitgate subprocess that is stopped the way an operator stops it: SIGTERM, then SIGKILL."""

    proc: subprocess.Popen[bytes] | None
    stop_timeout_s = 15.0

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM (graceful), SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(self.stop_timeout_s if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        raise NotImplementedError


class ControllerProcess(ManagedProcess):
    """`kitgate serve --port 0 --port-file F --data-dir D` as a real subprocess."""

    def __init__(self, tmp_dir: Path | str, env: dict[str, str] | None = None, start: bool = True,
                 same_port: bool = False) -> None:
        """`same_port`: a restart binds the port the first start got, so a worker or proxy configured with
        the URL reconnects to it (otherwise each start takes a new ephemeral port)."""
        self.tmp_dir = Path(tmp_dir)
        self.same_port = same_port
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.tmp_dir / "data"
        self.port_file = self.tmp_dir / "controller.port"
        self.log_path = self.tmp_dir / "controller.log"
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        if start:
            self.start()

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ControllerProcess:
        self.port_file.unlink(missing_ok=True)
        port = str(self.port) if self.same_port and self.port is not None else "0"
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.proc = subprocess.Popen(
            [KITGATE, "serve", "--host", "127.0.0.1", "--port", port, "--port-file", str(self.port_file),
             "--data-dir", str(self.data_dir)],
            env=clean_env(self.env), stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"controller exited {self.proc.returncode} during start:\n{self.logs()[-3000:]}")
            if self.port_file.exists():
                text = self.port_file.read_text().strip()
                if text:
                    self.port = int(text)
                    try:
                        if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"controller not ready within {START_TIMEOUT_S} s:\n{self.logs()[-3000:]}")

    def kill(self) -> int | None:
        """SIGKILL: no shutdown hooks, exactly like a crash."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(15)

    def restart(self) -> ControllerProcess:
        """Same data dir, new process (a new ephemeral port unless `same_port`: use .url afterwards)."""
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> ControllerProcess:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # ---- access ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("controller not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def admin(self, timeout: float = 30.0) -> httpx.Client:
        return self.client(self.admin_token, timeout)

    def mint_token(self, *scopes: str, policies: Iterable[str] = (), ttl_s: int | None = None,
                   cidrs: Iterable[str] = (), sub: str | None = None) -> str:
        """A new token for this data dir via the security layer's Python API; each gets its own identity."""
        from kitgate.controller.security import create_token

        return create_token(self.data_dir, list(scopes), sub=sub or f"test-{uuid.uuid4().hex[:12]}",
                            policies=list(policies) or None, cidrs=list(cidrs) or None, ttl_s=ttl_s,
                            env=self.env)  # the controller's KITGATE_DATABASE_URL / KITGATE_KEYS_DIR, if any


# Generous rate limits for functional tests (the security suite tests the real limits on its own controller).
FAST_ENV = {
    "KITGATE_RATE_SUBMIT": "100000/minute",
    "KITGATE_RATE_READ": "100000/minute",
    "KITGATE_RATE_WORKER": "100000/minute",
    "KITGATE_RATE_ANON": "100000/minute",
}


class HttpWorker:
    """The worker protocol spoken over real HTTP by a test (for API tests; e2e tests use `kitgate worker`)."""

    def __init__(self, controller: ControllerProcess, token: str, worker_id: str = "test-worker",
                 labels: Iterable[str] = ()) -> None:
        self.client = controller.client(token)
        self.worker_id = worker_id
        self.labels = list(labels)

    def claim(self, wait_s: float = 0.0) -> dict | None:
        r = self.client.post("/v1/workers/claim", params={"wait_s": wait_s},
                             json={"worker_id": self.worker_id, "labels": self.labels})
        if r.status_code == 204:
            return None
        r.raise_for_status()
        return r.json()

    def report(self, claim: dict, status: str = "succeeded", **fields: object) -> httpx.Response:
        body = {"status": status, "worker_id": self.worker_id, "claim_id": claim["claim_id"], **fields}
        return self.client.post(f"/v1/jobs/{claim['job_id']}/result", json=body)

    def heartbeat(self, claim: dict | None = None, state: str = "running") -> httpx.Response:
        body: dict[str, object] = {"worker_id": self.worker_id, "state": state}
        if claim is not None:
            body.update(job_id=claim["job_id"], claim_id=claim["claim_id"])
        return self.client.post("/v1/workers/heartbeat", json=body)

    def close(self) -> None:
        self.client.close()
