"""The worker's on-disk state: claim journal, result outbox, replay markers, pinned keys, worker id.

Why on disk: scene edits are not idempotent, so a claim is journaled *before* its job runs (a crash
then can never lead to a second run) and a result is kept until the controller acknowledged it (a
controller outage never loses a result).

What is fsync'd, and why that is enough. Two kinds of crash matter:

- **The worker process dies** (SIGKILL, OOM, a crash in pxr or Kit). Everything it wrote with
  `write()` is in the kernel's page cache and is there when it restarts, fsync or not. So the claim
  file (written before the job runs), the outbox entry (written before the first report) and the
  replay marker all survive, and the next process reports the interrupted claim or the stored result
  and never re-runs anything. No fsync is needed for this case; none is paid per job.
- **The machine loses power or the kernel crashes.** Only fsync'd data survives. Then:
  - *never run twice* does not depend on the worker's disk: the controller hands a job to one claim
    only (one SQLite transaction), never re-queues a job that was handed out unless the worker itself
    reported `not_started`, and declares an unreported claim `lost`. A replayed claim response is
    refused by the envelope's expiry (the marker of a claim younger than that may be gone after a
    power loss; replaying it needs an on-path attacker as well, and TLS stops that);
  - *never lost* is kept by `make_durable()`: a result is fsync'd (file and directory) the moment it
    cannot be delivered at once (controller unreachable, any answer that is not an acknowledgement)
    and before delivery when its effects are themselves durable (the headless worker saved the stage
    with `--save`). A result that is acknowledged within the first report needs no disk at all;
    losing power in that window is the same as losing it while the job ran (the job becomes `lost`).
- The acknowledgement (unlinking the outbox entry) is never fsync'd: if it is lost, the result is
  sent again and the controller answers `already_reported`, which counts as an acknowledgement.

Files are written atomically where a torn file would mislead (temp file + rename); a file the reader
cannot parse is ignored. Replay markers are lines appended to one log per day (one write per job, no
file per job); a marker is kept until the envelope it belongs to has expired (envelopes live at most a
day, see `controller/settings.py`), then the day's log is deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_MAX_STATE_FILE = 16 * 1024 * 1024
DAY_S = 86400
MARKER_MARGIN_S = 600  # clock skew between controller and worker, with room to spare


def fsync_dir(path: Path) -> None:
    """Make the names in a directory (creates, renames) durable."""
    try:
        dfd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Write `data` to `path` so readers see the old or the new content, never a torn file.

    `durable=False` skips both fsyncs: the file then survives the writer's death but not a power loss.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)  # make the rename itself durable


def atomic_write_json(path: Path, obj: Any, *, durable: bool = True) -> None:
    atomic_write_bytes(path, json.dumps(obj, separators=(",", ":"), sort_keys=True).encode(), durable=durable)


def _read_json(path: Path) -> Any:
    if path.stat().st_size > _MAX_STATE_FILE:
        raise ValueError(f"{path} is larger than {_MAX_STATE_FILE} bytes")
    return json.loads(path.read_bytes())


def _check_name(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe identifier for a state file: {name!r}")
    return name


class WorkerState:
    """Files under one state directory (one per worker; created 0700).

    Thread-safe: the runner's network thread journals claims while its host thread finishes jobs.
    """

    def __init__(self, root: Path, clock: Any = time.time) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in ("claims", "outbox", "done"):
            (self.root / sub).mkdir(exist_ok=True, mode=0o700)
        self._clock = clock
        self._lock = threading.Lock()
        self._done: dict[str, float] = {}  # claim id -> keep its marker until (epoch s)
        self._done_fd: int | None = None
        self._done_day: int | None = None
        for tmp in (self.root / "outbox").glob(".*.tmp"):  # a write the previous process did not finish
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._load_done()

    # -- identity -----------------------------------------------------------------------------
    def worker_id(self, requested: str | None = None) -> str:
        """The stable worker id: the requested one, else the one persisted, else a new one."""
        path = self.root / "worker_id"
        if requested:
            return _check_name(requested)
        if path.exists():
            try:
                return _check_name(path.read_text().strip())
            except ValueError:
                pass
        host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:48] or "worker"
        wid = f"{host}-{secrets.token_hex(4)}"
        atomic_write_bytes(path, wid.encode())
        return wid

    # -- pinned keys --------------------------------------------------------------------------
    def pinned_jwks(self) -> dict[str, Any] | None:
        path = self.root / "pinned_keys.json"
        if not path.exists():
            return None
        data = _read_json(path)
        return data if isinstance(data, dict) else None

    def pin_jwks(self, jwks: dict[str, Any]) -> None:
        atomic_write_json(self.root / "pinned_keys.json", jwks)

    # -- claim journal ------------------------------------------------------------------------
    def record_claim(self, claim_id: str, job_id: str, exp: float | None) -> bool:
        """Journal a claim before anything runs. False if this claim id was seen before (replay).

        O_EXCL makes the check and the record one step, so the same id can never be journaled twice.
        """
        _check_name(claim_id)
        with self._lock:
            if claim_id in self._done:
                return False
        data = json.dumps({"claim_id": claim_id, "job_id": job_id, "exp": exp, "at": self._clock()}).encode()
        try:
            fd = os.open(self.root / "claims" / claim_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)  # one small write: never torn by the process dying
        finally:
            os.close(fd)
        return True

    def open_claims(self) -> list[dict[str, Any]]:
        """Claims journaled but never finished: the worker died while they ran."""
        out = []
        for path in sorted((self.root / "claims").iterdir()):
            if path.name.startswith("."):
                continue
            try:
                data = _read_json(path)
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("claim_id"), str):
                out.append(data)
            else:  # torn or empty (a power loss before the data reached the disk): only the id is known
                out.append({"claim_id": path.name, "job_id": None, "exp": None, "at": None})
        return out

    def has_result(self, claim_id: str) -> bool:
        return (self.root / "outbox" / _check_name(claim_id)).exists()

    def finish_claim(
        self, claim_id: str, result: dict[str, Any], job_id: str, exp: float | None = None, *, durable: bool = False
    ) -> None:
        """Move a claim from the journal to the outbox (outbox first, so a crash in between keeps both).

        `exp` is the envelope's expiry (None when unknown): the replay marker is kept until then.
        """
        _check_name(claim_id)
        data = json.dumps({"job_id": job_id, "result": result, "at": self._clock()}, separators=(",", ":")).encode()
        outbox = self.root / "outbox"
        # A fixed temp name is enough (claim ids are unique, one runner per state dir) and skips mkstemp's
        # name search; the rename makes the entry appear whole or not at all.
        tmp = outbox / f".{claim_id}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, outbox / claim_id)
        if durable:
            fsync_dir(outbox)
        self.close_claim(claim_id, exp)

    def close_claim(self, claim_id: str, exp: float | None = None) -> None:
        """Replace the open claim by its replay marker."""
        _check_name(claim_id)
        now = self._clock()
        keep_until = (exp if exp is not None else now + DAY_S) + MARKER_MARGIN_S
        with self._lock:
            self._done[claim_id] = keep_until
            fd = self._marker_log(now)
            os.write(fd, f"{claim_id} {keep_until:.0f}\n".encode())
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / "claims" / claim_id)

    def make_durable(self, claim_id: str) -> None:
        """fsync one stored result (file and directory): from now on it survives a power loss."""
        path = self.root / "outbox" / _check_name(claim_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(path.parent)

    # -- outbox -------------------------------------------------------------------------------
    def outbox(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Unacknowledged results as (claim_id, job_id, result body), oldest first."""
        items: list[tuple[float, str, str, dict[str, Any]]] = []
        for path in (self.root / "outbox").iterdir():
            if path.name.startswith("."):
                continue
            try:
                data = _read_json(path)
                items.append((float(data["at"]), path.name, str(data["job_id"]), dict(data["result"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        items.sort()
        return [(claim, job, body) for _, claim, job, body in items]

    def acknowledge(self, claim_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / "outbox" / _check_name(claim_id))

    # -- replay markers -----------------------------------------------------------------------
    def prune_done(self) -> None:
        """Forget replay markers whose envelopes have expired: drop them from memory, delete old logs."""
        now = self._clock()
        today = int(now // DAY_S)
        with self._lock:
            self._done = {k: v for k, v in self._done.items() if v >= now}
        for path in (self.root / "done").iterdir():
            day = _log_day(path.name)
            if day is not None and day < today - 1:  # every marker in it was written >= 1 day ago
                with contextlib.suppress(OSError):
                    os.unlink(path)
            elif day is None and not path.name.startswith("."):  # a per-claim marker of an older layout
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime + DAY_S + MARKER_MARGIN_S < now:
                        os.unlink(path)

    def close(self) -> None:
        with self._lock:
            if self._done_fd is not None:
                os.close(self._done_fd)
                self._done_fd = None

    def _marker_log(self, now: float) -> int:
        day = int(now // DAY_S)
        if self._done_fd is None or self._done_day != day:
            if self._done_fd is not None:
                os.close(self._done_fd)
            path = self.root / "done" / f"{day}.log"
            self._done_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._done_day = day
        return self._done_fd

    def _load_done(self) -> None:
        now = self._clock()
        for path in (self.root / "done").iterdir():
            if path.name.startswith("."):
                continue
            if _log_day(path.name) is None:  # a per-claim marker of an older layout
                with contextlib.suppress(OSError, ValueError):
                    self._done[_check_name(path.name)] = path.stat().st_mtime + DAY_S + MARKER_MARGIN_S
                continue
            try:
                lines = path.read_bytes().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            for line in lines:
                parts = line.split(" ")
                if len(parts) != 2 or not _SAFE_NAME.match(parts[0]):
                    continue  # a torn last line after a power loss
                try:
                    keep_until = float(parts[1])
                except ValueError:
                    continue
                if keep_until >= now:
                    self._done[parts[0]] = keep_until
        self.prune_done()


def _log_day(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    return int(stem) if dot and ext == "log" and stem.isdigit() else None
