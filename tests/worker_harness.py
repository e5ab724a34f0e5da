"""`kitgate worker` as a real subprocess for e2e and fault tests (importable as `worker_harness`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from harness import KITGATE, ManagedProcess, clean_env


class WorkerProcess(ManagedProcess):
    """`kitgate worker --controller URL --token-file F --stage PATH ...`; logs go to <state_dir>/../worker.log.

    `stop()` (SIGTERM) lets it finish the current job and report before it exits.
    """

    stop_timeout_s = 20.0

    def __init__(
        self,
        controller_url: str,
        token_file: Path | str,
        stage_path: Path | str,
        *,
        save: bool = True,
        labels: Iterable[str] = (),
        worker_id: str | None = None,
        state_dir: Path | str | None = None,
        poll_wait_s: float = 2.0,
        heartbeat_s: float = 0.5,
        backoff_max_s: float = 1.0,
        extra_args: Iterable[str] = (),
        env: dict[str, str] | None = None,
        start: bool = True,
    ) -> None:
        self.controller_url = controller_url
        self.token_file = Path(token_file)
        self.stage_path = Path(stage_path)
        self.state_dir = Path(state_dir) if state_dir else self.stage_path.parent / f".{self.stage_path.name}.state"
        self.log_path = self.state_dir.parent / f"{self.state_dir.name}.log"
        self.args = ["worker", "--controller", controller_url, "--token-file", str(self.token_file),
                     "--stage", str(self.stage_path), "--state-dir", str(self.state_dir),
                     "--poll-wait", str(poll_wait_s), "--heartbeat", str(heartbeat_s),
                     "--backoff-max", str(backoff_max_s), "--log-level", "info"]
        if save:
            self.args.append("--save")
        for label in labels:
            self.args += ["--label", label]
        if worker_id:
            self.args += ["--worker-id", worker_id]
        self.args += list(extra_args)
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        if start:
            self.start()

    def start(self) -> WorkerProcess:
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen([KITGATE, *self.args], env=clean_env(self.env), stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs():
                return True
            if not self.running:
                return text in self.logs()
            time.sleep(0.05)
        return False

    def kill(self) -> int | None:
        """SIGKILL the worker's whole process group (worker, fork server, job child): a crash."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(15)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
