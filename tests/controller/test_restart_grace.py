"""Restart grace without amnesty (SQLite store, injected clock): a restart credits only the outage.

Before, every restart refreshed every running job's heartbeat, so a controller crash-looping faster than the
heartbeat timeout kept a job whose worker was gone `running` for ever. The rule now: `mark_lost` stamps
controller_clock('sweeper') and `recover_after_restart` adds the time since that stamp (when it is longer
than two sweep intervals) to the running jobs' heartbeats, capped at now.

Each "controller" below is a JobStore on its own Database connection to one file; a crash is simply that
controller making no further calls. Times are fake (the clock is injected), so nothing here waits.
"""

from __future__ import annotations

from pathlib import Path

from controller.test_store import Clock, new_job, ok_result, signer
from kitgate.controller.db import Database
from kitgate.controller.store import _DDL, JobStore

TIMEOUT = 30.0  # heartbeat timeout
INTERVAL = 1.0  # sweep interval (lost_check_interval_s)


def boot(path: Path, clock: Clock) -> tuple[JobStore, float]:
    """A controller process starting on the file: migrate, then the restart grace. (store, seconds credited)"""
    store = JobStore(Database(path), clock=clock)
    store.migrate()
    return store, store.recover_after_restart(INTERVAL)


def test_dead_worker_is_lost_after_timeout_plus_real_downtime_under_a_crash_loop(tmp_path: Path) -> None:
    """Restart every 5 s for up to 120 s: up 2 s (sweeps at +0, +1, +2), then dead 3 s. The job's worker died
    right after claiming; the job must be lost once it has been watched for TIMEOUT seconds, no later."""
    clock = Clock()
    clock.now = 0.0
    path = tmp_path / "db.sqlite3"
    ctl, credited_total = boot(path, clock)
    assert credited_total == 0.0  # a fresh database recorded no sweep: nothing to credit
    ctl.mark_lost(TIMEOUT)
    job, _ = ctl.create(new_job())
    running, _ = ctl.claim("w-dead", [], signer())  # and the worker is never heard of again
    claimed_at = clock.now
    downtime = 0.0  # measured here: from a controller's last sweep to the next start
    watched: list[tuple[float, float]] = []  # (sweep time, seconds the job was watched by then)
    lost_at: float | None = None
    restarts = 0
    start = 0.0
    while lost_at is None and start < 120.0:
        for t in (start + 1, start + 2):  # this life's sweeps (the one at `start` ran at boot)
            clock.now = t
            watched.append((t, t - claimed_at - downtime))
            if [j.id for j in ctl.mark_lost(TIMEOUT)] == [job.id]:
                lost_at = t
                break
        if lost_at is not None:
            break
        last_sweep = clock.now
        ctl.db.close()  # crash: this controller makes no further call
        start += 5.0
        clock.now = start
        ctl, credited = boot(path, clock)
        restarts += 1
        downtime += start - last_sweep
        credited_total += credited
        watched.append((start, start - claimed_at - downtime))
        if [j.id for j in ctl.mark_lost(TIMEOUT)] == [job.id]:
            lost_at = start

    print(f"lost at t={lost_at} after {restarts} restarts; downtime credited {credited_total} s")
    assert lost_at is not None, "a crash-looping controller kept a dead worker's job running (amnesty)"
    assert restarts >= int(TIMEOUT // 5)  # it really crash-looped past the timeout
    assert credited_total == downtime  # each outage credited once, nothing else
    assert watched[-1][1] > TIMEOUT  # lost once watched for longer than the timeout ...
    assert watched[-2][1] <= TIMEOUT  # ... and not a sweep later
    stored = ctl.get(job.id)
    assert stored is not None and stored.status == "lost" and stored.attempts == running.attempts


def test_live_worker_survives_a_crash_loop_and_a_long_outage(tmp_path: Path) -> None:
    """The worker heartbeats at +0.5 and +2.5 of each life (the second one AFTER the life's last sweep at
    +2), the controller crash-loops, and once stays down for 48 s (longer than the timeout) right after such
    a late heartbeat. A live worker's job must never go lost, and its report must land."""
    clock = Clock()
    clock.now = 0.0
    path = tmp_path / "db.sqlite3"
    ctl, _ = boot(path, clock)
    ctl.mark_lost(TIMEOUT)
    job, _ = ctl.create(new_job())
    running, _ = ctl.claim("w-live", [], signer(), claimed_by="tok")
    starts = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 90.0, 95.0, 100.0, 105.0, 110.0, 115.0]
    long_gap = 0.0
    for i, start in enumerate(starts):
        if i:
            clock.now = start
            ctl, credited = boot(path, clock)
            if start - starts[i - 1] > TIMEOUT:
                long_gap = credited
        for t, what in ((start, "sweep"), (start + 0.5, "beat"), (start + 1, "sweep"), (start + 2, "sweep"),
                        (start + 2.5, "beat")):
            clock.now = t
            if what == "sweep":
                assert ctl.mark_lost(TIMEOUT) == [], f"live worker's job went lost at t={t}"
            else:
                assert ctl.heartbeat("w-live", job.id, running.claim_id, None, "running", reporter="tok") is False
        ctl.db.close()  # crash at +2.9, after the late heartbeat
    assert long_gap == 90.0 - 42.0  # the long outage, counted from the last sweep, was credited
    clock.now += 0.2
    done, requeued = ctl.report(job.id, "w-live", running.claim_id, ok_result("w-live", running.claim_id), "tok")
    assert not requeued and done.status == "succeeded"


def test_restart_while_another_replica_sweeps_credits_nothing(tmp_path: Path) -> None:
    """Replica A sweeps every second; replica B crash-loops (restart every 5 s). B's restarts find A's fresh
    stamp and credit nothing, so a dead worker's job is lost exactly when its timeout passes."""
    clock = Clock()
    clock.now = 0.0
    path = tmp_path / "db.sqlite3"
    a, _ = boot(path, clock)
    a.mark_lost(TIMEOUT)
    job, _ = a.create(new_job())
    a.claim("w-dead", [], signer())
    claimed_at = clock.now
    b: JobStore | None = None
    credits: list[float] = []
    lost_at: float | None = None
    t = 0.0
    while lost_at is None and t < 120.0:
        t += 1.0
        clock.now = t
        if t % 5 == 0:  # B (re)starts
            if b is not None:
                b.db.close()
            b, credited = boot(path, clock)
            credits.append(credited)
            stored = b.get(job.id)
            assert stored is not None and stored.heartbeat_at == claimed_at  # untouched by B's restart
        if [j.id for j in a.mark_lost(TIMEOUT)] == [job.id]:
            lost_at = t
    assert len(credits) >= 5 and credits == [0.0] * len(credits)
    assert lost_at is not None and lost_at - claimed_at > TIMEOUT and lost_at - 1.0 - claimed_at <= TIMEOUT


def test_missing_stamp_and_short_gap_credit_nothing_and_no_outage_twice(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "db.sqlite3"
    first = JobStore(Database(path), clock=clock)
    first.migrate()
    job, _ = first.create(new_job())
    first.claim("w1", [], signer())
    claimed = first.get(job.id)
    assert claimed is not None and claimed.heartbeat_at is not None
    hb = claimed.heartbeat_at
    first.db.close()

    def heartbeat_at(store: JobStore) -> float | None:
        stored = store.get(job.id)
        return None if stored is None else stored.heartbeat_at

    clock.now += 100.0  # no sweep was ever recorded (a database from before this rule): credit nothing
    ctl, credited = boot(path, clock)
    assert credited == 0.0 and heartbeat_at(ctl) == hb
    ctl.mark_lost(TIMEOUT)  # (heartbeat 100 s old: lost) -- use a second job for the rest
    job, _ = ctl.create(new_job())
    ctl.claim("w2", [], signer())
    hb = heartbeat_at(ctl)
    assert hb is not None
    clock.now += 2 * INTERVAL  # a quick restart: within two sweep intervals, nothing is credited
    ctl.db.close()
    ctl, credited = boot(path, clock)
    assert credited == 0.0 and heartbeat_at(ctl) == hb
    ctl.mark_lost(TIMEOUT)
    clock.now += 10.0  # down 10 s: credited
    ctl.db.close()
    ctl, credited = boot(path, clock)
    assert credited == 10.0 and heartbeat_at(ctl) == hb + 10.0
    clock.now += 7.0  # it died again before its first sweep: only these 7 s are new, not 17
    ctl.db.close()
    ctl, credited = boot(path, clock)
    assert credited == 7.0 and heartbeat_at(ctl) == hb + 17.0


def test_existing_database_gains_the_clock_table(tmp_path: Path) -> None:
    """A file created by the previous version (its jobs DDL without the last statement) is migrated."""
    db = Database(tmp_path / "db.sqlite3")
    db.migrate("jobs", _DDL[:-1])
    store = JobStore(db, clock=Clock())
    store.migrate()
    assert store.mark_lost(TIMEOUT) == []
    row = db.connection().execute("SELECT alive_at FROM controller_clock WHERE name='sweeper'").fetchone()
    assert row is not None and row[0] == store.clock()
