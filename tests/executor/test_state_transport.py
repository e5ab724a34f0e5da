"""On-disk state (journal, outbox, replay markers) and the stdlib transport's limits."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kitgate.worker.results import build_result, simple_result
from kitgate.worker.state import WorkerState, atomic_write_json
from kitgate.worker.transport import ControllerTransport, TransportError

from .fakes import FakeServer, json_reply


def test_atomic_write_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp files left behind


def test_claim_journal_refuses_a_replayed_claim_id(tmp_path: Path) -> None:
    state = WorkerState(tmp_path)
    assert state.record_claim("c1", "j1", None) is True
    assert state.record_claim("c1", "j1", None) is False  # still open
    state.finish_claim("c1", {"status": "succeeded"}, "j1")
    assert state.record_claim("c1", "j1", None) is False  # finished: the done marker remembers it
    assert state.open_claims() == []
    assert [(c, j) for c, j, _ in state.outbox()] == [("c1", "j1")]
    state.acknowledge("c1")
    assert state.outbox() == []
    # a fresh process on the same state dir still refuses it
    assert WorkerState(tmp_path).record_claim("c1", "j1", None) is False


def test_unsafe_ids_never_become_paths(tmp_path: Path) -> None:
    state = WorkerState(tmp_path)
    for bad in ("../x", "a/b", "", "x" * 200):
        with pytest.raises(ValueError):
            state.record_claim(bad, "j", None)


def test_worker_id_is_persisted(tmp_path: Path) -> None:
    first = WorkerState(tmp_path).worker_id()
    assert WorkerState(tmp_path).worker_id() == first
    assert WorkerState(tmp_path).worker_id("explicit-id") == "explicit-id"


def test_result_is_trimmed_to_the_controller_schema() -> None:
    data = {"status": "weird", "stdout": "x" * 10, "unknown": 1, "error": {"type": "E", "message": "m" * 9000,
            "line": 3, "extra": 1}, "timings": {"run_ms": 1.5, "bogus": 2}, "changed_prims": ["/A"]}
    out = build_result(data, claim_id="c", worker_id="w", claimed_at=1.0, started_at=2.0)
    assert out["status"] == "failed"  # unknown statuses are never reported as success
    assert "unknown" not in out and set(out["error"]) == {"type", "message", "line"}
    assert len(out["error"]["message"]) == 4000
    assert set(out["timings"]) <= {"queued_at", "claimed_at", "started_at", "finished_at", "compile_ms", "run_ms",
                                   "apply_ms"}
    assert out["timings"]["claimed_at"] == 1.0 and out["changed_prims_total"] == 1
    rej = simple_result("rejected", "EnvelopeRejected", "bad_signature", claim_id="c", worker_id="w",
                        claimed_at=None, started_at=None)
    assert rej["status"] == "rejected" and rej["changed_prims"] == []


@pytest.fixture()
def fake() -> FakeServer:
    srv = FakeServer()
    yield srv
    srv.close()


def test_transport_rejects_garbage_and_oversized_bodies(fake: FakeServer) -> None:
    fake.route("GET", "/garbage", lambda _b: (200, b"\x00\xffnot json", {}))
    fake.route("GET", "/big", lambda _b: (200, b"[" + b"1," * 60_000 + b"1]", {}))
    fake.route("GET", "/liar", lambda _b: (200, b"{}", {"Content-Length": "999999999"}))
    fake.route("GET", "/ok", lambda _b: json_reply(200, {"fine": True}))
    t = ControllerTransport(fake.url, "secret-token-value", max_response_bytes=1024)
    with pytest.raises(TransportError, match="non-JSON"):
        t.request("GET", "/garbage")
    with pytest.raises(TransportError, match="exceeds"):
        t.request("GET", "/big")
    with pytest.raises(TransportError, match="exceeds"):
        t.request("GET", "/liar")
    assert t.request("GET", "/ok").body == {"fine": True}
    assert "secret-token-value" not in repr(t)
    assert fake.requests[-1][3]["Authorization"] == "Bearer secret-token-value"


def test_abort_interrupts_a_long_poll_at_once(fake: FakeServer) -> None:
    release = threading.Event()

    def slow(_b: object) -> tuple[int, bytes, dict[str, str]]:
        release.wait(30)
        return json_reply(204, None)

    fake.route("POST", "/v1/workers/claim", slow)
    t = ControllerTransport(fake.url, "tok")
    errors: list[Exception] = []

    def poll() -> None:
        try:
            t.request("POST", "/v1/workers/claim", body={}, timeout_s=30)
        except TransportError as exc:
            errors.append(exc)

    th = threading.Thread(target=poll)
    th.start()
    while not fake.requests:
        time.sleep(0.01)
    t.abort()
    th.join(5)
    release.set()
    assert not th.is_alive() and errors, "abort() must end the blocked request"
    with pytest.raises(TransportError, match="closed"):
        t.request("GET", "/x")


def test_unreachable_controller_is_a_transport_error() -> None:
    t = ControllerTransport("http://127.0.0.1:9", "tok", timeout_s=2)
    with pytest.raises(TransportError):
        t.request("GET", "/v1/keys")
    with pytest.raises(ValueError):
        ControllerTransport("ftp://x", "tok")


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_replay_markers_outlive_a_restart_until_their_envelope_expired(tmp_path: Path) -> None:
    clock = _Clock(1_000_000.0)
    state = WorkerState(tmp_path, clock=clock)
    assert state.record_claim("c-short", "j1", None)
    state.finish_claim("c-short", {"status": "succeeded"}, "j1", exp=clock.now + 300)
    assert state.record_claim("c-long", "j2", None)
    state.finish_claim("c-long", {"status": "succeeded"}, "j2")  # expiry unknown: kept a day
    state.close()
    assert list((tmp_path / "claims").iterdir()) == []
    reopened = WorkerState(tmp_path, clock=clock)
    assert not reopened.record_claim("c-short", "j1", None) and not reopened.record_claim("c-long", "j2", None)
    reopened.close()
    clock.now += 3600  # the short envelope expired long ago: its marker is gone, the other one stays
    later = WorkerState(tmp_path, clock=clock)
    assert later.record_claim("c-short", "j1", None) and not later.record_claim("c-long", "j2", None)
    later.close()
    clock.now += 3 * 86400  # every envelope expired: the day logs are deleted
    WorkerState(tmp_path, clock=clock).close()
    assert list((tmp_path / "done").iterdir()) == []


def test_torn_state_files_are_ignored_not_fatal(tmp_path: Path) -> None:
    state = WorkerState(tmp_path)
    (tmp_path / "claims" / "c-torn").write_bytes(b'{"claim_id": "c-to')  # a power loss mid-write
    (tmp_path / "outbox" / ".c-x.tmp").write_bytes(b"half")  # a result write that never finished
    (tmp_path / "done" / "20000.log").write_bytes(b"c-ok 99999999999\nc-half 12")
    state.close()
    reopened = WorkerState(tmp_path)
    assert reopened.open_claims() == [{"claim_id": "c-torn", "job_id": None, "exp": None, "at": None}]
    assert reopened.outbox() == [] and not (tmp_path / "outbox" / ".c-x.tmp").exists()
    assert not reopened.record_claim("c-ok", "j", None)
    reopened.close()


def test_make_durable_fsyncs_the_stored_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kitgate.worker.state as state_mod

    synced: list[str] = []
    real_fsync = state_mod.os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    state = WorkerState(tmp_path)
    assert state.record_claim("c1", "j1", None)
    monkeypatch.setattr(state_mod.os, "fsync", fsync)
    state.finish_claim("c1", {"status": "succeeded"}, "j1")
    assert synced == []  # the fast path: page cache only (survives the process, see state.py)
    state.make_durable("c1")
    assert synced == [str(tmp_path / "outbox" / "c1"), str(tmp_path / "outbox")]
    state.close()


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"port": self.client_address[1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def keepalive_server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_transport_reuses_one_connection(keepalive_server: ThreadingHTTPServer) -> None:
    t = ControllerTransport(f"http://127.0.0.1:{keepalive_server.server_address[1]}", "tok")
    ports = {t.request("GET", "/x").body["port"] for _ in range(5)}
    assert t.connects == 1 and len(ports) == 1
    t.abort()


def test_transport_reconnects_when_the_server_closed_the_idle_connection(
        keepalive_server: ThreadingHTTPServer) -> None:
    t = ControllerTransport(f"http://127.0.0.1:{keepalive_server.server_address[1]}", "tok")
    first = t.request("GET", "/x").body["port"]
    conn = t._current
    assert conn is not None and conn.sock is not None
    conn.sock.shutdown(socket.SHUT_RDWR)  # what a server's keep-alive timeout looks like from here
    assert t.request("GET", "/x").body["port"] != first  # sent again on a new connection, no error
    assert t.connects == 2
    t.abort()


def test_transport_replaces_a_connection_idle_for_too_long(keepalive_server: ThreadingHTTPServer) -> None:
    t = ControllerTransport(f"http://127.0.0.1:{keepalive_server.server_address[1]}", "tok", idle_reuse_s=0.0)
    t.request("GET", "/x")
    time.sleep(0.01)
    t.request("GET", "/x")
    assert t.connects == 2
    t.abort()


def test_connection_close_from_the_server_is_honoured(fake: FakeServer) -> None:
    fake.route("GET", "/ok", lambda _b: json_reply(200, {"fine": True}))  # FakeServer says Connection: close
    t = ControllerTransport(fake.url, "tok")
    assert [t.request("GET", "/ok").body for _ in range(3)] == [{"fine": True}] * 3
    assert t.connects == 3
