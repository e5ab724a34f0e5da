"""The claim journal as an append-only log: fewer file operations per job, bounded size and memory,
and the same never-run-twice / never-lost behaviour across a real process death (SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kitgate.worker.state as state_mod
from kitgate.protocol.claims import CLOCK_SKEW_S
from kitgate.worker.state import JOURNAL, MARKER_MARGIN_S, MEMORY_PRUNE_S, WorkerState

OK = {"status": "succeeded"}


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_job_costs_one_create_and_one_unlink_of_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per job: claim append, outbox create+write, marker append, outbox unlink on acknowledgement."""
    state = WorkerState(tmp_path)
    creates: list[str] = []
    renames: list[str] = []
    unlinks: list[str] = []
    real_open, real_rename, real_unlink = os.open, os.rename, os.unlink

    def counting_open(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        fd = real_open(path, flags, mode, **kw)  # type: ignore[arg-type]
        if flags & os.O_CREAT and not flags & os.O_APPEND:
            creates.append(str(path))
        return fd

    def counting_rename(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> None:
        renames.append(str(b))
        real_rename(a, b)

    def counting_unlink(path: str | os.PathLike[str], **kw: object) -> None:
        unlinks.append(str(path))
        real_unlink(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(state_mod.os, "open", counting_open)
    monkeypatch.setattr(state_mod.os, "rename", counting_rename)
    monkeypatch.setattr(state_mod.os, "unlink", counting_unlink)
    jobs = 200
    for i in range(jobs):
        assert state.record_claim(f"c{i}", f"j{i}", None)
        state.finish_claim(f"c{i}", OK, f"j{i}")
        state.acknowledge(f"c{i}")
    monkeypatch.undo()
    assert len(creates) == jobs and all("/outbox/" in p for p in creates)
    assert renames == []
    assert len(unlinks) == jobs and all("/outbox/" in p for p in unlinks)
    assert list((tmp_path / "claims").iterdir()) == [] and state.outbox() == []
    state.close()


def test_fd_count_is_the_same_before_and_after_many_jobs(tmp_path: Path) -> None:
    state = WorkerState(tmp_path)
    assert state.record_claim("warm", "j", None)
    state.finish_claim("warm", OK, "j")
    before = _fds()
    for i in range(500):
        assert state.record_claim(f"c{i}", f"j{i}", None)
        state.finish_claim(f"c{i}", OK, f"j{i}")
        state.acknowledge(f"c{i}")
    assert _fds() == before
    state.close()
    for _ in range(20):  # opening and closing a state dir leaks nothing either
        WorkerState(tmp_path).close()
    assert _fds() == before - 2  # the journal and the marker log of `state`


def test_journal_stays_bounded_even_when_a_claim_is_always_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The network thread claims the next job while the current one runs: there may never be a moment
    with no open claim. The journal is still compacted, and keeps exactly the open claims."""
    limit = 16 * 1024
    monkeypatch.setattr(state_mod, "JOURNAL_COMPACT_BYTES", limit)
    state = WorkerState(tmp_path)
    assert state.record_claim("c0", "j0", None)
    jobs = 2000
    biggest = 0
    for i in range(1, jobs):
        assert state.record_claim(f"c{i}", f"j{i}", None)  # the next one is claimed first
        state.finish_claim(f"c{i - 1}", OK, f"j{i - 1}")
        state.acknowledge(f"c{i - 1}")
        biggest = max(biggest, (tmp_path / JOURNAL).stat().st_size)
    record = len(json.dumps({"claim_id": "c5999", "job_id": "j5999", "exp": None, "at": 1e9}))
    assert biggest <= limit + 2 * (record + 20)
    assert jobs * record > 5 * limit  # without compaction it would be far bigger
    state.close()
    reopened = WorkerState(tmp_path)
    assert [c["claim_id"] for c in reopened.open_claims()] == [f"c{jobs - 1}"]
    assert not reopened.record_claim("c17", "j17", None)  # closed long ago: still refused (marker)
    reopened.close()


def test_journal_is_compacted_once_a_day_when_traffic_is_low(tmp_path: Path) -> None:
    clock = _Clock(10 * 86400 + 100.0)
    state = WorkerState(tmp_path, clock=clock)
    for i in range(3):
        assert state.record_claim(f"c{i}", f"j{i}", None)
        state.finish_claim(f"c{i}", OK, f"j{i}", exp=clock.now + 300)
    assert (tmp_path / JOURNAL).stat().st_size > 0
    clock.now += 86400
    assert state.record_claim("c-next", "j", None)
    state.finish_claim("c-next", OK, "j", exp=clock.now + 300)
    assert (tmp_path / JOURNAL).stat().st_size == 0  # the day-old records went before their markers can
    state.close()


def test_replay_markers_in_memory_stay_bounded_by_the_envelope_ttl(tmp_path: Path) -> None:
    clock = _Clock(1_000_000.0)
    state = WorkerState(tmp_path, clock=clock)
    ttl, rate, jobs = 300, 10, 6000  # envelope lifetime (s), jobs per simulated second: 600 s
    for i in range(jobs):
        clock.now += 1 / rate
        assert state.record_claim(f"c{i}", f"j{i}", None)
        state.finish_claim(f"c{i}", OK, f"j{i}", exp=clock.now + ttl)
        state.acknowledge(f"c{i}")
    bound = rate * (ttl + MARKER_MARGIN_S + MEMORY_PRUNE_S) + 1
    assert len(state._done) <= bound < jobs
    assert not state.record_claim(f"c{jobs - 1}", "j", None)  # the recent ones are all still refused
    state.close()


def test_markers_outlive_the_verifier_leeway() -> None:
    """A marker must be kept at least as long as its envelope can still verify (exp + leeway)."""
    assert MARKER_MARGIN_S > CLOCK_SKEW_S


def test_torn_journal_line_and_torn_outbox_entry_are_recovered_as_interrupted(tmp_path: Path) -> None:
    state = WorkerState(tmp_path)
    assert state.record_claim("c-ran", "j-ran", 123.0)
    state.close()
    with open(tmp_path / JOURNAL, "ab") as fh:
        fh.write(b'{"claim_id":"c-to')  # a power loss in the middle of the next record
    (tmp_path / "outbox" / "c-ran").write_bytes(b'{"job_id":"j-ran","res')  # died while storing the result
    reopened = WorkerState(tmp_path)
    assert reopened.open_claims() == [{"claim_id": "c-ran", "job_id": "j-ran", "exp": 123.0,
                                       "at": reopened.open_claims()[0]["at"]}]
    assert not reopened.has_result("c-ran") and reopened.outbox() == []
    assert not reopened.record_claim("c-ran", "j-ran", None)  # still open: never journaled (or run) twice
    reopened.finish_claim("c-ran", {"status": "failed"}, "j-ran")  # what the runner reports: interrupted
    assert [(c, b["status"]) for c, _, b in reopened.outbox()] == [("c-ran", "failed")]
    reopened.close()


_CHILD = textwrap.dedent("""
    import os, signal, sys
    import kitgate.worker.state as m
    m.JOURNAL_COMPACT_BYTES = 16 * 1024
    state = m.WorkerState(sys.argv[1])
    for i in range(int(sys.argv[2])):  # finished and acknowledged
        state.record_claim(f"done{i}", f"j{i}", None)
        state.finish_claim(f"done{i}", {"status": "succeeded"}, f"j{i}", exp=None)
        state.acknowledge(f"done{i}")
    state.record_claim("stored", "j-stored", None)  # result stored, not yet delivered
    state.finish_claim("stored", {"status": "succeeded"}, "j-stored")
    state.record_claim("running", "j-running", None)  # journaled; its job was running
    os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.parametrize("finished", [5, 3000])  # 3000: the journal was compacted before the kill
def test_sigkill_keeps_open_claims_and_stored_results(tmp_path: Path, finished: int) -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path), str(finished)], timeout=120,
                          capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    state = WorkerState(tmp_path)
    assert [c["claim_id"] for c in state.open_claims()] == ["running"]  # reported as interrupted, not re-run
    assert [(c, j) for c, j, _ in state.outbox()] == [("stored", "j-stored")]  # never lost
    for claim in ("done0", f"done{finished - 1}", "stored", "running"):
        assert not state.record_claim(claim, "j", None)  # a replayed claim is refused
    if finished > 1000:
        assert (tmp_path / JOURNAL).stat().st_size < 16 * 1024
    state.close()
