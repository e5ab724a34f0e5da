"""`kitgate worker`: the runner on a usd-core stage, driven by the process's main thread.

Why the main thread: the same rule as in Kit (stage work on one thread only) keeps the headless worker
an honest stand-in for the extension; the network thread only claims and reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kitgate.protocol import JobStatus
from kitgate.worker.config import RunnerConfig
from kitgate.worker.results import outcome_fields
from kitgate.worker.runner import Runner
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.worker")


def default_state_dir(stage_path: Path, state_home: Path) -> Path:
    """One state dir per stage, so several workers on one machine never share a journal. `state_home`
    is WorkerEnvironment.state_home (XDG_STATE_HOME)."""
    base = Path(state_home) / "kitgate"
    digest = hashlib.sha256(str(stage_path.resolve()).encode()).hexdigest()[:16]
    return base / f"worker-{digest}"


def open_or_create_stage(path: Path) -> Any:
    from pxr import Usd, UsdGeom

    if path.exists():
        stage = Usd.Stage.Open(str(path))
        if stage is None:
            raise RuntimeError(f"cannot open stage {path}")
        return stage
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    stage.GetRootLayer().Save()
    return stage


def kept_mode(path: Path) -> int:
    """The permission bits a rewrite of PATH must keep: the file's own, or a new file's (0666 less the umask).
    The temp file of an atomic save is private (mkstemp: 0600), so without this a 0640 stage shared with a
    group would become owner-only after the first save."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """Read, never set: os.umask(0) to peek would briefly make files other threads create world-writable.
    Where /proc does not say, assume the strictest (0o077: a new stage is private)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o077


def save_layer_atomically(layer: Any, path: Path) -> None:
    """Export to a temp file in the same directory (same extension = same format), give it the stage's
    mode, fsync, rename over the stage: readers see the old file or the new one, never half of one."""
    mode = kept_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if not layer.Export(tmp):
            raise OSError(f"could not write {tmp}")
        os.chmod(tmp, mode)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class HeadlessHost:
    """StageHost over one usd-core stage file."""

    def __init__(self, stage_path: Path, *, save: bool) -> None:
        self.path = Path(stage_path).resolve()
        self.save = save
        try:
            self.stage = open_or_create_stage(self.path)
        except Exception as exc:  # noqa: BLE001 - pxr raises Tf.ErrorException for unreadable files
            raise ValueError(f"cannot open or create stage {self.path}: {str(exc)[:500]}") from None
        self.thread_id = threading.get_ident()

    def get_stage(self) -> Any:
        return self.stage

    @property
    def durable_effects(self) -> bool:
        """With --save a successful job's edit is on disk, so the runner makes its result durable too."""
        return self.save

    def apply_delta(self, job: Job, delta: Any, stage: Any) -> list[str]:
        changed = delta.apply_to(stage)
        self._save(stage)
        return list(changed or [])

    def run_in_process(self, job: Job, stage: Any, call: Callable[[], tuple[Any, Any]]) -> tuple[Any, Any]:
        """Trusted jobs edit the stage directly (no delta to apply): save after a successful one too."""
        outcome, delta = call()
        if self.save and outcome_fields(outcome).get("status") == JobStatus.succeeded:
            self._save(stage)
        return outcome, delta

    def _save(self, stage: Any) -> None:
        if not self.save:
            return
        layer = stage.GetRootLayer()
        try:
            save_layer_atomically(layer, self.path)
        except BaseException:
            layer.Reload(force=True)  # the file on disk is unchanged: make memory match it again
            raise

    def job_finished(self, job: Job, result: dict[str, Any]) -> dict[str, Any]:
        return result


def serve(config: RunnerConfig, stage_path: Path, *, save: bool, stop: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set). The current job is finished, then everything stops."""
    stop = stop or threading.Event()
    host = HeadlessHost(stage_path, save=save)
    if config.stage_name is None:
        config.stage_name = str(host.path)
    runner = Runner(config, host)

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the current job, then stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    runner.start()
    log.info("worker %s serving %s (labels: %s)", runner.worker_id, host.path, ",".join(config.labels) or "-")
    try:
        while not stop.is_set():
            runner.tick(timeout=0.2)
    finally:
        runner.stop()
    log.info("worker %s stopped", runner.worker_id)
    return 0
