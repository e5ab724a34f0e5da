"""The worker's on-disk state: claim journal, result outbox, replay markers, pinned keys, worker id.

Why on disk: scene edits are not idempotent, so a claim is journaled *before* its job runs (a crash
then can never lead to a second run) and a result is kept until the controller acknowledged it (a
controller outage never loses a result).

What is fsync'd, and why that is enough. Two kinds of crash matter:

- **The worker process dies** (SIGKILL, OOM, a crash in pxr or Kit). Everything it wrote with
  `write()` is in the kernel's page cache and is there when it restarts, fsync or not. So the claim
  record (written before the job runs), the outbox entry (written before the first report) and the
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

File operations per job (the fast path, no fsync): one append to `claims.log` (the claim journal),
one outbox file created with one write, one append to the day's replay-marker log, one unlink when the
controller acknowledged the result. No file is created, renamed or deleted for the claim itself: the
journal is an append-only log of claim records, and a claim is closed by its replay marker. Both are
single `write()`s on an O_APPEND descriptor opened once, so a dying process leaves whole lines; a
power loss can leave a torn last line, which the reader skips (that claim then ends as `lost` on the
controller, the same as a power loss while it ran). Past `JOURNAL_COMPACT_BYTES`, and once a day, the
journal is cut down to the open claims' records (truncated in place when none is open, else rewritten
to a temp file renamed over it): every other record is closed by a marker already written, so nothing
is lost, and no record outlives the day log holding the marker that closes it.
An outbox entry is written in place with one write (a reader that cannot parse it treats the result as
missing, so a torn entry reads as an interrupted job, never as a result); a durable one (fsync'd before
it is sent) still goes through a temp file and a rename.

Replay markers are lines appended to one log per day; a marker is kept until the envelope it belongs
to can no longer pass verification (its expiry plus the verifier's clock-skew leeway, with margin; the
expiry is checked on this machine's clock, like the marker's), in memory as well as on disk, and the
in-memory set is pruned at least every `MEMORY_PRUNE_S` so it stays at (job rate x envelope TTL) entries.
Day logs older than a day are deleted. Claim files of the older one-file-per-claim layout
(`claims/<id>`) are still read and recovered.
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
# A marker must outlive the last moment its envelope verifies: expiry + CLOCK_SKEW_S (30 s, the
# verifier's leeway, kitgate.protocol.claims) on this machine's clock. The rest is room for a clock step.
MARKER_MARGIN_S = 120
MEMORY_PRUNE_S = 30.0  # forget expired markers in memory this often (the day logs are pruned hourly)
JOURNAL_COMPACT_BYTES = 256 * 1024  # past this size claims.log is cut down to the open claims' records
JOURNAL = "claims.log"


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
        self._pruned_at = 0.0
        self._open: dict[str, dict[str, Any]] = {}  # journaled, not closed yet (this process or recovered)
        self._legacy: set[str] = set()  # open claims stored as claims/<id> files (older layout)
        self._journal_fd: int | None = None
        self._journal_bytes = 0
        self._journal_day = int(self._clock() // DAY_S)
        leftovers = [*(self.root / "outbox").glob(".*.tmp"), *self.root.glob(f".{JOURNAL}.*.tmp")]
        for tmp in leftovers:  # a write the previous process did not finish
            with contextlib.suppress(OSError):
                tmp.unlink()
        closed = self._load_done()
        self._load_journal(closed)

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

        The check and the record happen under one lock, so the same id can never be journaled twice by
        this process (one runner per state directory); the record is one append (no file per claim).
        """
        _check_name(claim_id)
        rec = {"claim_id": claim_id, "job_id": job_id, "exp": exp, "at": self._clock()}
        line = json.dumps(rec, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if claim_id in self._done or claim_id in self._open:
                return False
            os.write(self._journal(), line)  # one small append: never torn by the process dying
            self._journal_bytes += len(line)
            self._open[claim_id] = rec
        return True

    def open_claims(self) -> list[dict[str, Any]]:
        """Claims journaled but never finished: the worker died while they ran."""
        with self._lock:
            return [dict(self._open[k]) for k in sorted(self._open)]

    def has_result(self, claim_id: str) -> bool:
        """True only for a stored result that can be read whole (a torn one is no result)."""
        path = self.root / "outbox" / _check_name(claim_id)
        try:
            data = _read_json(path)
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and isinstance(data.get("result"), dict)

    def finish_claim(
        self, claim_id: str, result: dict[str, Any], job_id: str, exp: float | None = None, *, durable: bool = False
    ) -> None:
        """Move a claim from the journal to the outbox (outbox first, so a crash in between keeps both).

        `exp` is the envelope's expiry (None when unknown): the replay marker is kept until then.
        """
        _check_name(claim_id)
        data = json.dumps({"job_id": job_id, "result": result, "at": self._clock()}, separators=(",", ":")).encode()
        outbox = self.root / "outbox"
        # Fast path: written in place (one create, one write). Until this returns the claim is still open,
        # so a torn entry (the process died mid-write) is recovered as an interrupted job: `has_result`
        # and `outbox()` ignore what they cannot parse. A durable entry goes through a temp file and a
        # rename so that what the fsync made durable is whole. A fixed temp name is enough (claim ids are
        # unique, one runner per state dir).
        target = outbox / f".{claim_id}.tmp" if durable else outbox / claim_id
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if durable:
            os.rename(target, outbox / claim_id)
            fsync_dir(outbox)
        self.close_claim(claim_id, exp)

    def close_claim(self, claim_id: str, exp: float | None = None) -> None:
        """Replace the open claim by its replay marker."""
        _check_name(claim_id)
        now = self._clock()
        keep_until = (exp if exp is not None else now + DAY_S) + MARKER_MARGIN_S
        with self._lock:
            if now - self._pruned_at >= MEMORY_PRUNE_S:
                self._prune_memory(now)
            self._done[claim_id] = keep_until
            fd = self._marker_log(now)
            os.write(fd, f"{claim_id} {keep_until:.0f}\n".encode())  # the marker closes the journal record
            self._open.pop(claim_id, None)
            legacy = claim_id in self._legacy
            self._legacy.discard(claim_id)
            if self._journal_bytes > JOURNAL_COMPACT_BYTES or (
                    self._journal_bytes and int(now // DAY_S) != self._journal_day):
                self._compact_locked(now)
        if legacy:
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
            self._prune_memory(now)
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
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None

    def _prune_memory(self, now: float) -> None:
        """Drop expired markers from memory (caller holds the lock)."""
        self._done = {k: v for k, v in self._done.items() if v >= now}
        self._pruned_at = now

    def _compact_locked(self, now: float) -> None:
        """Keep only the open claims' records in the journal (caller holds the lock).

        Every other record is closed by a marker written before this point. With no claim open the file
        is truncated in place; otherwise the open records go to a new file that replaces it whole. Also
        done once a day, so no record outlives the day logs that hold the markers closing it.
        """
        if not self._open and self._journal_fd is not None:
            os.ftruncate(self._journal_fd, 0)
            self._journal_bytes = 0
        else:
            data = b"".join(json.dumps(rec, separators=(",", ":")).encode() + b"\n" for rec in self._open.values())
            atomic_write_bytes(self.root / JOURNAL, data, durable=False)
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            self._journal_bytes = len(data)
        self._journal_day = int(now // DAY_S)

    def _journal(self) -> int:
        if self._journal_fd is None:
            self._journal_fd = os.open(self.root / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self._journal_fd

    def _load_journal(self, closed: set[str]) -> None:
        """Open claims = journal records (and legacy claim files) without a replay marker."""
        path = self.root / JOURNAL
        try:
            raw = path.read_bytes() if path.stat().st_size <= _MAX_STATE_FILE * 4 else b""
        except OSError:
            raw = b""
        self._journal_bytes = len(raw)
        for line in raw.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a torn last line after a power loss: that claim ends as `lost` on the controller
            if not isinstance(rec, dict):
                continue
            claim_id = rec.get("claim_id")
            if isinstance(claim_id, str) and _SAFE_NAME.match(claim_id) and claim_id not in closed:
                self._open[claim_id] = {"claim_id": claim_id, "job_id": rec.get("job_id"),
                                        "exp": rec.get("exp"), "at": rec.get("at")}
        for path in sorted((self.root / "claims").iterdir()):  # the one-file-per-claim layout
            if path.name.startswith(".") or not _SAFE_NAME.match(path.name):
                continue
            try:
                data = _read_json(path)
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and data.get("claim_id") == path.name:
                self._open[path.name] = data
            else:  # torn or empty (a power loss before the data reached the disk): only the id is known
                self._open[path.name] = {"claim_id": path.name, "job_id": None, "exp": None, "at": None}
            self._legacy.add(path.name)

    def _marker_log(self, now: float) -> int:
        day = int(now // DAY_S)
        if self._done_fd is None or self._done_day != day:
            if self._done_fd is not None:
                os.close(self._done_fd)
            path = self.root / "done" / f"{day}.log"
            self._done_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._done_day = day
        return self._done_fd

    def _load_done(self) -> set[str]:
        """Load the live replay markers; return every claim id with a marker on disk, expired or not
        (those claims are closed, whatever the journal says)."""
        now = self._clock()
        closed: set[str] = set()
        for path in (self.root / "done").iterdir():
            if path.name.startswith("."):
                continue
            if _log_day(path.name) is None:  # a per-claim marker of an older layout
                with contextlib.suppress(OSError, ValueError):
                    self._done[_check_name(path.name)] = path.stat().st_mtime + DAY_S + MARKER_MARGIN_S
                    closed.add(path.name)
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
                closed.add(parts[0])
                if keep_until >= now:
                    self._done[parts[0]] = keep_until
        self.prune_done()
        return closed


def _log_day(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    return int(stem) if dot and ext == "log" and stem.isdigit() else None
