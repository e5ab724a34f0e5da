"""What a worker is told (RunnerConfig), what a host must provide (StageHost), and what it shows (Status).

Why a module of its own: the runner, the network side and the execution side all read these, and the
headless command and the Kit extension build a RunnerConfig without importing any of the machinery.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kitgate.worker.verify import Job


class StageHost(Protocol):
    """What a host (headless loop, Kit binding) provides. Every method runs on the host thread.

    Optional extras a host may define: `run_in_process(job, stage, call)` (wrap a trusted job, e.g. in
    an undoable Kit command) and `durable_effects` (True when a successful job's edit is on disk).
    """

    def get_stage(self) -> Any | None: ...

    def apply_delta(self, job: Job, delta: Any, stage: Any) -> list[str]: ...

    def job_finished(self, job: Job, result: dict[str, Any]) -> dict[str, Any]: ...


class Phase(enum.StrEnum):
    idle = "idle"
    connecting = "connecting"
    polling = "polling"
    running = "running"
    paused = "paused"
    disconnected = "disconnected"
    stopped = "stopped"


@dataclass
class RunnerConfig:
    controller_url: str
    token: str = field(repr=False)
    state_dir: Path
    worker_id: str | None = None
    labels: list[str] = field(default_factory=list)
    stage_name: str | None = None
    policy_dir: Path | None = None
    asset_root: Path | None = None  # what the policies' relative asset_roots resolve against (None: dropped)
    jwks_file: Path | None = None  # pinned keys given by the operator (else fetched once and pinned)
    poll_wait_s: float = 25.0
    heartbeat_s: float = 5.0
    http_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    ca_file: str | None = None
    python: str | None = None  # interpreter for the fork server (Kit: Kit's python, not the kit binary)
    offload_isolated: bool = False  # Kit: run isolated jobs on a helper thread against a snapshot
    max_response_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class WorkerEnvironment:
    """The worker's one reading of the process environment, taken once at start-up by the host that
    builds the RunnerConfig (`kitgate worker`, the Kit extension). Nothing else in the worker, and
    nothing in the sandbox, reads the environment: a value that changed later must not change a policy.
    (No pydantic here: this code also runs inside Kit.)"""

    asset_root: Path | None  # KITGATE_ASSET_ROOT
    fork_python: str | None  # KITGATE_WORKER_PYTHON: the interpreter for the sandbox's fork server
    state_home: Path  # XDG_STATE_HOME (default ~/.local/state): where default state dirs live

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> WorkerEnvironment:
        env = os.environ if environ is None else environ
        asset_root = env.get("KITGATE_ASSET_ROOT") or None
        return cls(
            asset_root=Path(asset_root) if asset_root else None,
            fork_python=env.get("KITGATE_WORKER_PYTHON") or None,
            state_home=Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"),
        )


@dataclass
class Status:
    """A snapshot for UIs and logs (copied under the lock; safe to read anywhere)."""

    phase: str
    worker_id: str
    controller: str
    current_job: str | None
    last_results: list[tuple[str, str]]
    last_error: str | None
    outbox: int
    paused_reason: str | None
    live_output: str = ""  # the end of what the current (or last) job printed, as it runs (worker/live.py)
    # pending_approval jobs this worker could claim once approved, as its last claim answer counted them
    # (capped at protocol.wire.APPROVALS_WAITING_CAP, meaning "that many or more"; None: not told yet)
    approvals_waiting: int | None = None
