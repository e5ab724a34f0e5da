"""The audit trail on a real PostgreSQL: two replicas write at once and still make ONE chain; writers never
wait on each other; every way of tampering with the rows or the signed checkpoint is caught; and the chain
has the SQLite trail's format (a PostgreSQL chain verifies under security/audit.py's AuditLog)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitgate.controller.db import Database
from kitgate.controller.pg import migrate
from kitgate.controller.pg.audit import PgAuditLog, checkpoint_text
from kitgate.controller.pg.backend import PgBackend
from kitgate.controller.security.audit import _ANCHOR_LINE, ANCHOR_FILE, GENESIS, AuditLog, record_digest
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.settings import Settings

HANG_GUARD_S = 60.0  # only so that a broken build fails instead of hanging; never a pass/fail threshold


def _keys(tmp_path: Path) -> Path:
    keys_dir = tmp_path / "keys"
    KeyRing(keys_dir).load(create=True)  # what `kitgate init` does once for the whole deployment
    return keys_dir


@asynccontextmanager
async def replica(url: str, tmp_path: Path, name: str, keys_dir: Path) -> AsyncIterator[PgBackend]:
    """One controller replica's backend (its own pool and data dir; the shared database and keys dir). Its
    start() starts the replica's audit sequencer; tests that drive the sequencer by hand (flush) close it."""
    settings = Settings(data_dir=tmp_path / name, database_url=url, keys_dir=keys_dir)
    backend = PgBackend(settings)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


def run(url: str, body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await migrate.apply(url)
        await body()

    asyncio.run(main())


async def wait_for(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not await check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.02)


def audit_of(backend: PgBackend) -> PgAuditLog:
    assert isinstance(backend.audit, PgAuditLog)
    return backend.audit


def test_two_replicas_writing_at_once_make_one_chain(pg_url: str, tmp_path: Path) -> None:
    keys_dir = _keys(tmp_path)
    per_replica, tasks = 300, 20

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a, replica(pg_url, tmp_path, "b", keys_dir) as b:
            async def writer(backend: PgBackend, name: str, task: int) -> None:
                for i in range(task, per_replica, tasks):
                    async with backend.unit():
                        await backend.audit.record("test.write", actor=name, n=i, job_id=f"{name}-{i}")

            await asyncio.gather(*(writer(r, n, t) for r, n in ((a, "a"), (b, "b")) for t in range(tasks)))

            async def all_chained() -> bool:
                return (await audit_of(a).head())["seq"] == 2 * per_replica

            await wait_for(all_chained, "the sequencers chain every committed row")
            report = await audit_of(b).verify_chain()
            assert report.ok, report
            assert report.records == 2 * per_replica
            rows = []
            since = 0
            while batch := await audit_of(a).query(since_seq=since, limit=1000):
                rows += batch
                since = batch[-1]["seq"]
            assert [r["seq"] for r in rows] == list(range(1, 2 * per_replica + 1))
            written = sorted((r["actor"], r["data"]["n"]) for r in rows)
            assert written == sorted((name, i) for name in "ab" for i in range(per_replica))
            head = await audit_of(a).head()
            checkpoint = await audit_of(b).latest_checkpoint()
            assert checkpoint is not None and (checkpoint.seq, checkpoint.hash) == (head["seq"], head["hash"])
            # the same answer with the operator's head kept elsewhere
            assert (await audit_of(a).verify_chain((head["seq"], head["hash"]))).ok

    run(pg_url, body)


def test_an_open_unit_with_an_audit_row_blocks_no_other_writer(pg_url: str, tmp_path: Path) -> None:
    """A unit that wrote its audit row and stays open: another replica's unit writes and commits, and the
    sequencer chains that row, while the first is still open. Then the first commits and is chained after it."""
    keys_dir = _keys(tmp_path)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a, replica(pg_url, tmp_path, "b", keys_dir) as b:
            first_written = asyncio.Event()
            release_first = asyncio.Event()
            second_pid: list[int] = []

            async def first() -> None:
                async with a.unit():
                    await a.audit.record("test.first", job_id="first")
                    first_written.set()
                    await release_first.wait()

            async def second() -> None:
                async with b.unit():
                    async with b.connection() as conn:
                        cur = await conn.execute("SELECT pg_backend_pid() AS pid")
                        row = await cur.fetchone()
                        assert row is not None
                        second_pid.append(int(row["pid"]))
                    await b.audit.record("test.second", job_id="second")

            first_task = asyncio.create_task(first())
            await first_written.wait()
            second_task = asyncio.create_task(second())

            async def second_done() -> bool:
                if second_task.done():
                    return True
                if second_pid:  # waiting on any lock now would be the serialisation this design forbids
                    async with a.connection() as conn:
                        cur = await conn.execute(
                            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (second_pid[0],))
                        row = await cur.fetchone()
                    assert not (row and row["wait_event_type"] == "Lock"), "the second writer waits on a lock"
                return False

            await wait_for(second_done, "the second unit commits")
            await second_task
            assert not first_task.done()

            async def second_chained() -> bool:
                rows = await audit_of(b).for_job("second")
                return bool(rows) and rows[0]["seq"] is not None

            await wait_for(second_chained, "the sequencer chains the committed row past the open unit")
            assert [r["seq"] for r in await audit_of(a).for_job("second")] == [1]
            assert await audit_of(a).for_job("first") == []  # not committed yet: nobody sees it
            assert not first_task.done()

            release_first.set()
            await first_task

            async def first_chained() -> bool:
                rows = await audit_of(a).for_job("first")
                return bool(rows) and rows[0]["seq"] is not None

            await wait_for(first_chained, "the first row is chained once committed")
            assert [r["seq"] for r in await audit_of(b).for_job("first")] == [2]  # chain order = commit order
            assert (await audit_of(a).verify_chain()).ok

    run(pg_url, body)


def test_a_rolled_back_unit_leaves_no_audit_row_and_pending_rows_show_on_the_job_page(pg_url: str,
                                                                                      tmp_path: Path) -> None:
    keys_dir = _keys(tmp_path)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a:
            log = audit_of(a)
            await log.close()  # no sequencer: rows stay pending until flush()
            with pytest.raises(RuntimeError):
                async with a.unit():
                    await log.record("test.rolled_back", job_id="j1")
                    raise RuntimeError("the state change failed")
            await log.record("test.kept", job_id="j1", note="x")
            pending = await log.for_job("j1")
            assert [(r["event"], r["seq"], r.get("pending")) for r in pending] == [("test.kept", None, True)]
            assert await log.query() == []  # readers of the chain see chained rows only
            assert await log.flush() == 1
            chained = await log.for_job("j1")
            assert [(r["event"], r["seq"], r["data"]) for r in chained] == [("test.kept", 1, {"job_id": "j1",
                                                                                             "note": "x"})]
            assert (await log.verify_chain()).ok

    run(pg_url, body)


# ---- tampering ---------------------------------------------------------------------------------------------

RECORDS = 10


def _resign(cp_seq: int, digest: str, ts: float, private: Ed25519PrivateKey) -> str:
    return base64.urlsafe_b64encode(private.sign(checkpoint_text(cp_seq, digest, ts))).rstrip(b"=").decode()


def _rechain_from(conn: psycopg.Connection, seq: int) -> str:
    """What an attacker with write access does after editing record `seq`: recompute every later hash."""
    rows = conn.execute("SELECT seq, ts, event, actor, ip, request_id, data FROM audit WHERE seq >= %s "
                        "ORDER BY seq", (seq,)).fetchall()
    prev_row = conn.execute("SELECT hash FROM audit WHERE seq = %s", (seq - 1,)).fetchone()
    prev = prev_row[0] if prev_row else GENESIS
    for s, ts, event, actor, ip, rid, data in rows:
        digest = record_digest(prev, s, ts, event, actor, ip, rid, data)
        conn.execute("UPDATE audit SET prev_hash = %s, hash = %s WHERE seq = %s", (prev, digest, s))
        prev = digest
    return prev


def _edit(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("""UPDATE audit SET data = '{"n":999}' WHERE seq = 4""")


def _delete(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("DELETE FROM audit WHERE seq = 4")


def _reorder(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("UPDATE audit SET seq = -4 WHERE seq = 4")
    conn.execute("UPDATE audit SET seq = 4 WHERE seq = 5")
    conn.execute("UPDATE audit SET seq = 5 WHERE seq = -4")


def _cut_tail(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("DELETE FROM audit WHERE seq > 7")  # the checkpoints stay


def _rewrite(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("""UPDATE audit SET data = '{"n":999}' WHERE seq = 4""")
    _rechain_from(conn, 4)  # a consistent chain again; only the signed checkpoint disagrees


def _forge_signature(conn: psycopg.Connection, keys: KeyRing) -> None:
    """Rewrite history and move the newest checkpoint to the new head, signed with a key of one's own under
    the genuine key id."""
    conn.execute("""UPDATE audit SET data = '{"n":999}' WHERE seq = 4""")
    head = _rechain_from(conn, 4)
    cp_seq, ts = conn.execute("SELECT seq, ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE audit_checkpoints SET hash = %s, signature = %s WHERE seq = %s",
                 (head, _resign(cp_seq, head, ts, Ed25519PrivateKey.generate()), cp_seq))


def _other_key(conn: psycopg.Connection, keys: KeyRing) -> None:
    """Rewrite history and add a newer checkpoint signed by a key that is not in the keys dir."""
    conn.execute("""UPDATE audit SET data = '{"n":999}' WHERE seq = 4""")
    head = _rechain_from(conn, 4)
    ts = time.time()
    conn.execute("DELETE FROM audit_checkpoints")
    conn.execute("INSERT INTO audit_checkpoints(seq, hash, ts, kid, signature, opened_at) "
                 "VALUES (%s, %s, %s, %s, %s, %s)",
                 (RECORDS, head, ts, "feedfacefeedface", _resign(RECORDS, head, ts, Ed25519PrivateKey.generate()), ts))


def _token_key(conn: psycopg.Connection, keys: KeyRing) -> None:
    """The keys dir's TOKEN key is a real key of this deployment, but not one that signs checkpoints."""
    conn.execute("""UPDATE audit SET data = '{"n":999}' WHERE seq = 4""")
    head = _rechain_from(conn, 4)
    token = keys.active("token")
    cp_seq, ts = conn.execute("SELECT seq, ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE audit_checkpoints SET hash = %s, kid = %s, signature = %s WHERE seq = %s",
                 (head, token.kid, _resign(cp_seq, head, ts, token.private), cp_seq))


def _drop_checkpoints(conn: psycopg.Connection, keys: KeyRing) -> None:
    conn.execute("DELETE FROM audit_checkpoints")


@pytest.mark.parametrize(("tamper", "first_bad", "problem"), [
    (_edit, 4, "record content does not match its hash"),
    (_delete, 5, "record 4 is missing"),
    (_reorder, 4, "link to the previous record is broken"),
    (_cut_tail, 8, f"the signed checkpoint is at record {RECORDS} but the chain ends at 7: records were cut off"),
    (_rewrite, RECORDS, f"record {RECORDS} differs from the signed checkpoint: history was rewritten"),
    (_forge_signature, RECORDS, f"the checkpoint at record {RECORDS} has a bad signature: it was forged"),
    (_other_key, RECORDS, f"the checkpoint at record {RECORDS} is signed by key 'feedfacefeedface', which is not "
                          "an audit key in the keys dir: it was forged"),
    (_token_key, RECORDS, None),  # the message names the token key's kid: checked below
    (_drop_checkpoints, None, "the signed checkpoint is missing"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_tampering_is_detected(pg_url: str, tmp_path: Path, tamper: Callable[[psycopg.Connection, KeyRing], None],
                               first_bad: int | None, problem: str | None) -> None:
    keys_dir = _keys(tmp_path)
    keys = KeyRing(keys_dir)
    keys.load(create=False)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a:
            log = audit_of(a)
            await log.close()
            for i in range(RECORDS):
                await log.record("test.step", actor="alice", n=i)
                if i in (4, 9):
                    await log.flush()  # two rounds: two checkpoints, at 5 and 10
            clean = await log.verify_chain()
            assert clean.ok and clean.records == RECORDS, clean
            with psycopg.connect(pg_url, autocommit=True) as conn:
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute("UPDATE audit SET data = '{}' WHERE seq = 4")  # the application cannot
                conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")  # an owner can: the chain must show it
                conn.execute("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER")
                tamper(conn, keys)
            report = await log.verify_chain()
            assert not report.ok
            assert report.first_bad_seq == first_bad
            expected = problem if problem is not None else (
                f"the checkpoint at record {RECORDS} is signed by key {keys.active('token').kid!r}, which is not an "
                "audit key in the keys dir: it was forged")
            assert report.problem == expected

    run(pg_url, body)


def test_expect_head_and_unchained_rows(pg_url: str, tmp_path: Path) -> None:
    keys_dir = _keys(tmp_path)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a:
            log = audit_of(a)
            await log.close()
            for i in range(5):
                await log.record("test.step", n=i)
            await log.flush()
            head = await log.head()
            assert (await log.verify_chain((head["seq"], head["hash"]))).ok
            ahead = await log.verify_chain((head["seq"] + 3, head["hash"]))
            assert ahead.problem == (f"the expected head is at record {head['seq'] + 3} but the chain ends at "
                                     f"{head['seq']}: records were cut off")
            other = await log.verify_chain((3, "0" * 64))
            assert (other.first_bad_seq, other.problem) == (3, "record 3 differs from the expected head: "
                                                                "history was rewritten")
            # a row nobody chained for longer than the window: no sequencer is running anywhere
            late = PgAuditLog(a, clock=lambda: time.time() - 2 * log.stale_after_s)  # type: ignore[arg-type]
            await late.record("test.orphan")
            report = await log.verify_chain()
            assert (report.ok, report.records) == (False, 5)
            assert report.problem == (f"1 records written more than {log.stale_after_s:g} s ago are not chained: "
                                      "no audit sequencer is running (start a controller replica)")
            await log.flush()
            assert (await log.verify_chain()).ok

    run(pg_url, body)


def test_a_postgres_chain_is_a_valid_sqlite_chain(pg_url: str, tmp_path: Path) -> None:
    """Same fields, same digest: rows chained on PostgreSQL, copied into the SQLite trail, verify there. The
    replica's server rounds floats in text (extra_float_digits=0, an old-style setting a DBA may have): the
    timestamps are still hashed bit-exact."""
    keys_dir = _keys(tmp_path)
    exported: list[tuple[object, ...]] = []
    rounding_url = pg_url + "%20-cextra_float_digits%3D0"

    async def body() -> None:
        async with replica(rounding_url, tmp_path, "a", keys_dir) as a:
            log = audit_of(a)
            await log.close()
            await log.record("job.submitted", actor="alice", ip="10.0.0.1", request_id="r-1", job_id="j1",
                             code="print('é')", labels=["gpu"], limits={"timeout_s": 1.5})
            await log.record("job.cancelled", actor=None, job_id="j1", reason="x" * 3000)  # clipped like SQLite
            await log.record("auth.failed", ip="::1", path="/v1/jobs")
            await log.flush()
            with psycopg.connect(rounding_url) as conn:
                digits = conn.execute("SHOW extra_float_digits").fetchone()
                assert digits == ("0",)
            with psycopg.connect(pg_url) as conn:
                exported.extend(conn.execute(
                    "SELECT seq, ts, event, actor, ip, request_id, data, prev_hash, hash FROM audit ORDER BY seq"))

    run(pg_url, body)
    db = Database(tmp_path / "sqlite" / "kitgate.db")
    trail = AuditLog(db)
    with db.write() as conn:
        conn.executemany("INSERT INTO audit(seq, ts, event, actor, ip, request_id, data, prev_hash, hash) "
                         "VALUES(?,?,?,?,?,?,?,?,?)", exported)
    last_seq, last_hash = exported[-1][0], exported[-1][-1]
    (db.path.parent / ANCHOR_FILE).write_text(_ANCHOR_LINE.format(seq=last_seq, digest=last_hash))
    report = trail.verify_chain((3, str(last_hash)))
    assert report.ok and report.records == 3, report
    assert json.loads(str(exported[1][6]))["reason"].endswith("…")
    # and a SQLite record's digest is the one the PostgreSQL sequencer computes for the same fields
    trail.record("job.approved", actor="bob", job_id="j1")
    row = db.connection().execute("SELECT * FROM audit WHERE seq = 4").fetchone()
    assert row["hash"] == record_digest(str(last_hash), 4, row["ts"], "job.approved", "bob", None, None, row["data"])
    trail.close()


def test_the_checkpoint_moves_forward_and_keeps_a_history(pg_url: str, tmp_path: Path) -> None:
    keys_dir = _keys(tmp_path)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a:
            log = audit_of(a)
            await log.close()
            for round_no in range(3):
                await log.record("test.step", n=round_no)
                await log.flush()
            with psycopg.connect(pg_url) as conn:
                rows = conn.execute("SELECT seq FROM audit_checkpoints ORDER BY seq").fetchall()
                assert rows == [(3,)]  # within the history window: one row, moved forward in place
                with pytest.raises(psycopg.errors.RaiseException, match="only moves forward"):
                    conn.execute("UPDATE audit_checkpoints SET seq = 2")
            log.checkpoint_history_s = 0.0  # every round opens a new row now
            for round_no in range(2):
                await log.record("test.step", n=round_no)
                await log.flush()
            with psycopg.connect(pg_url) as conn:
                rows = conn.execute("SELECT seq FROM audit_checkpoints ORDER BY seq").fetchall()
            assert rows == [(3,), (4,), (5,)]
            checkpoint = await log.latest_checkpoint()
            assert checkpoint is not None and checkpoint.seq == 5
            assert (await log.verify_chain()).ok

    run(pg_url, body)


def test_a_replica_that_does_not_get_the_sequencer_lock_skips_the_round(pg_url: str, tmp_path: Path) -> None:
    keys_dir = _keys(tmp_path)

    async def body() -> None:
        async with replica(pg_url, tmp_path, "a", keys_dir) as a, replica(pg_url, tmp_path, "b", keys_dir) as b:
            log_a, log_b = audit_of(a), audit_of(b)
            await log_a.close()
            await log_b.close()
            await log_a.record("test.step", n=1)
            async with a.pool.connection() as conn, conn.transaction():  # replica A's round holds the lock
                await conn.execute(f"SELECT pg_advisory_xact_lock({migrate.LOCK_KEY_SQL})", ("audit-sequencer",))
                assert await log_b.sequence() is None  # B skips: no wait, no second chain
                assert (await log_b.head())["seq"] == 0
            assert await log_b.sequence() == 1
            assert (await log_a.head())["seq"] == 1 and (await log_a.verify_chain()).ok

    run(pg_url, body)
