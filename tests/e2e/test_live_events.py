"""Live job events end to end: real controller, real `kitgate worker`, real isolated sandbox, real SSE.

What is proved here (issue 16): a chunk a script prints reaches a watching client while the job still
runs; a client resuming with Last-Event-ID misses nothing retained; events are scoped by token; live
output is capped per job and only the claim holder may send it; a subscriber that reads nothing never
holds a job up. Ordering is asserted with event ids and job states, never with clocks.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import FAST_ENV, ControllerProcess, HttpWorker
from worker_harness import WorkerProcess

# Prints at once, then keeps working (on the wall clock, well inside scene-edit's limits) and prints again.
SPIN_JOB = (
    "import datetime\n"
    "t0 = datetime.datetime.now()\n"
    "print('first chunk')\n"
    "n = 0\n"
    "while (datetime.datetime.now() - t0).total_seconds() < 4.0:\n"
    "    n += 1\n"
    "print('second chunk')\n"
)
TERMINAL = {"succeeded", "failed", "timed_out", "rejected", "cancelled", "lost"}


def printing(line: str, then_s: float = 0.6) -> str:
    """A job that prints `line` and then keeps running: a job that ends within ~0.1 s sends no live output
    of its own (worker/live.py: its result carries it), so these run a little longer."""
    return (f"import datetime\nt0 = datetime.datetime.now()\nprint({line!r})\n"
            f"while (datetime.datetime.now() - t0).total_seconds() < {then_s}:\n    pass\n")


@dataclass
class Env:
    ctl: ControllerProcess
    agent: str  # jobs:submit + jobs:read
    other: str  # jobs:submit + jobs:read, another owner
    worker_token: str
    manual_token: str  # a second worker credential, for hand-driven claims


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("live-events")
    ctl = ControllerProcess(base / "ctl", env={**FAST_ENV, "KITGATE_EVENT_STREAMS_PER_CREDENTIAL": "3",
                                             "KITGATE_EVENT_HEARTBEAT_S": "0.5"})  # idle readers wake to hang up
    try:
        worker_token = ctl.mint_token("worker")
        token_file = base / "worker.token"
        token_file.write_text(worker_token)
        token_file.chmod(0o600)
        worker = WorkerProcess(ctl.url, token_file, base / "scene.usda", save=False)
        try:
            yield Env(ctl, ctl.mint_token("jobs:submit", "jobs:read"), ctl.mint_token("jobs:submit", "jobs:read"),
                      worker_token, ctl.mint_token("worker"))
        finally:
            worker.stop()
    finally:
        ctl.stop()


class Stream:
    """GET /v1/events read on a thread; events land in a queue as they arrive."""

    def __init__(self, ctl: ControllerProcess, token: str, *, params: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(base_url=ctl.url, timeout=httpx.Timeout(30.0, read=60.0),
                                   headers={"Authorization": f"Bearer {token}", **(headers or {})})
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.ready = threading.Event()
        self.status: int | None = None
        self.error_body: Any = None
        self._resp: httpx.Response | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(params or {},), daemon=True)
        self._thread.start()
        assert self.ready.wait(30), "the event stream did not open"

    def _run(self, params: dict[str, str]) -> None:
        try:
            with self.client.stream("GET", "/v1/events", params=params) as resp:
                self._resp = resp
                self.status = resp.status_code
                if resp.status_code != 200:
                    self.error_body = json.loads(resp.read())
                    return
                self.ready.set()
                name, data = None, []
                for line in resp.iter_lines():
                    if self._stop:
                        return
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        ev = json.loads("\n".join(data))
                        assert ev["type"] == name
                        self.events.put(ev)
                        name, data = None, []
        except (httpx.HTTPError, httpx.StreamClosed, OSError, ValueError):
            pass  # closed by close(), or the server ended the stream
        finally:
            self.ready.set()
            self.events.put(None)

    def until(self, pred: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Events up to and including the first one matching `pred`."""
        seen = []
        while True:
            ev = self.events.get(timeout=timeout)
            assert ev is not None, f"stream ended before the expected event; saw {seen}"
            seen.append(ev)
            if pred(ev):
                return seen

    def close(self) -> None:
        """Hang up now (the server sees the disconnect and gives the stream's slot back)."""
        self._stop = True
        if self._resp is not None:
            with contextlib.suppress(Exception):
                self._resp.close()
        self.client.close()
        self._thread.join(10)


@pytest.fixture
def streams() -> Iterator[list[Stream]]:
    opened: list[Stream] = []
    yield opened
    for s in opened:
        s.close()


def _submit(ctl: ControllerProcess, token: str, code: str, **extra: Any) -> str:
    with ctl.client(token) as c:
        r = c.post("/v1/jobs", json={"code": code, **extra})
        assert r.status_code in (200, 202), r.text
        return r.json()["id"]


def _finished(job_id: str) -> Any:
    return lambda ev: ev["job_id"] == job_id and ev["type"] == "finished"


def test_output_arrives_while_the_job_runs(env: Env, streams: list[Stream]) -> None:
    stream = Stream(env.ctl, env.agent)
    streams.append(stream)
    job_id = _submit(env.ctl, env.agent, SPIN_JOB)
    first = stream.until(lambda ev: ev["job_id"] == job_id and ev["type"] == "output")
    with env.ctl.client(env.agent) as c:
        status_at_first_chunk = c.get(f"/v1/jobs/{job_id}").json()["status"]
    assert status_at_first_chunk == "running"  # the chunk came while the job ran, not with its result
    rest = stream.until(_finished(job_id))
    mine = [ev for ev in first + rest if ev["job_id"] == job_id]
    types = [ev["type"] for ev in mine]
    assert types[:4] == ["created", "claimed", "started", "output"], types
    assert types[-1] == "finished" and mine[-1]["data"]["status"] == "succeeded"
    ids = [ev["id"] for ev in mine]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    text = "".join(ev["data"]["text"] for ev in mine if ev["type"] == "output")
    assert text == "first chunk\nsecond chunk\n"
    first_output = next(ev for ev in mine if ev["type"] == "output")
    assert "first chunk" in first_output["data"]["text"] and "second" not in first_output["data"]["text"]
    with env.ctl.client(env.agent) as c:
        assert c.get(f"/v1/jobs/{job_id}").json()["result"]["stdout"] == text  # the record agrees with the view


def test_last_event_id_resume_misses_nothing_retained(env: Env, streams: list[Stream]) -> None:
    live = Stream(env.ctl, env.agent)
    streams.append(live)
    job_id = _submit(env.ctl, env.agent, "print('a')\nprint('b')\n")
    seen = [ev for ev in live.until(_finished(job_id)) if ev["job_id"] == job_id]
    created = seen[0]
    assert created["type"] == "created"
    # a client that dropped right after `created` reconnects with the standard header ...
    resumed = Stream(env.ctl, env.agent, headers={"Last-Event-ID": str(created["id"])})
    streams.append(resumed)
    again = [ev for ev in resumed.until(_finished(job_id)) if ev["job_id"] == job_id]
    assert again == seen[1:]
    # ... or with ?after= (what a browser's EventSource cannot set a header for)
    after = Stream(env.ctl, env.agent, params={"after": str(created["id"]), "job_id": job_id})
    streams.append(after)
    assert after.until(_finished(job_id)) == seen[1:]


def test_an_unknown_resume_id_says_gap(env: Env, streams: list[Stream]) -> None:
    s = Stream(env.ctl, env.agent, headers={"Last-Event-ID": "999999999999"})
    streams.append(s)
    first = s.events.get(timeout=30)
    assert first is not None and first["type"] == "gap" and first["data"]["reason"] == "unknown_last_event_id"


def test_scoping_other_owners_and_workers(env: Env, streams: list[Stream]) -> None:
    mine = Stream(env.ctl, env.agent)
    theirs = Stream(env.ctl, env.other)
    admin = Stream(env.ctl, env.ctl.admin_token)
    streams += [mine, theirs, admin]
    their_job = _submit(env.ctl, env.other, printing("secret of other"))
    my_job = _submit(env.ctl, env.agent, printing("mine"))
    assert any(ev["type"] == "output" for ev in admin.until(_finished(their_job)))  # admin sees every owner
    theirs.until(_finished(their_job))
    seen_by_me = mine.until(_finished(my_job))
    assert all(ev["job_id"] != their_job for ev in seen_by_me)
    assert not any("secret of other" in json.dumps(ev) for ev in seen_by_me)
    # naming another owner's job is a 404, exactly like GET /v1/jobs/{id}
    with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {env.agent}"}) as c:
        r = c.get("/v1/events", params={"job_id": their_job})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # a worker credential cannot watch at all
    with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {env.worker_token}"}) as c:
        r = c.get("/v1/events")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    with httpx.Client(base_url=env.ctl.url) as c:
        assert c.get("/v1/events").status_code == 401


def test_streams_per_credential_are_limited(env: Env, streams: list[Stream]) -> None:
    token = env.ctl.mint_token("jobs:read")
    streams += [Stream(env.ctl, token) for _ in range(3)]
    with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.get("/v1/events")
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_streams"
    assert "close one" in r.json()["error"]["message"]
    streams.pop().close()  # a closed stream gives its slot back
    for _ in range(100):
        with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {token}"}) as c, \
                c.stream("GET", "/v1/events") as r:
            if r.status_code == 200:
                return
        threading.Event().wait(0.1)
    pytest.fail("the closed stream's slot was never given back")


def _manual_claim(env: Env, worker: HttpWorker) -> dict[str, Any]:
    for _ in range(50):
        claim = worker.claim(wait_s=1.0)
        if claim is not None:
            return claim
    raise AssertionError("no job to claim")


def test_output_endpoint_checks_the_claim_and_caps_the_job(env: Env, streams: list[Stream]) -> None:
    job_id = _submit(env.ctl, env.agent, "print('x')\n", labels=["manual-live"])  # the live worker lacks the label
    holder = HttpWorker(env.ctl, env.manual_token, worker_id="manual-live-1", labels=["manual-live"])
    intruder = HttpWorker(env.ctl, env.ctl.mint_token("worker"), worker_id="manual-live-2")
    watch = Stream(env.ctl, env.agent, params={"job_id": job_id})
    streams.append(watch)
    try:
        claim = _manual_claim(env, holder)
        assert claim["job_id"] == job_id
        url = f"/v1/jobs/{job_id}/output"
        good = {"worker_id": "manual-live-1", "claim_id": claim["claim_id"], "seq": 0}
        # wrong claim id, another worker's credential, another worker id: refused, nothing published
        assert holder.client.post(url, json={**good, "claim_id": "forged", "text": "x"}).status_code == 409
        r = intruder.client.post(url, json={**good, "text": "forged by another worker"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimed"
        assert intruder.client.post(url, json={**good, "worker_id": "manual-live-2", "text": "x"}).status_code == 409
        with env.ctl.client(env.agent) as reader:  # a submitter is no worker
            assert reader.post(url, json={**good, "text": "x"}).status_code == 403
        # oversized and malformed bodies: 422, never published
        assert holder.client.post(url, json={**good, "text": "y" * 20_000}).status_code == 422
        assert holder.client.post(url, json={**good, "text": "y", "extra": 1}).status_code == 422
        # the policy's output_bytes (scene-edit: 65536) caps the live output of the job
        sent = accepted = 0
        for seq in range(6):
            r = holder.client.post(url, json={**good, "seq": seq, "text": "z" * 16_000, "started": seq == 0})
            assert r.status_code == 200, r.text
            sent += 16_000
            accepted += r.json()["accepted_bytes"]
            assert r.json()["budget_bytes"] == 65536
        assert sent > 65536 and accepted == 65536
        r = holder.client.post(url, json={**good, "seq": 9, "text": "past the cap"})
        assert r.json()["accepted_bytes"] == 0
        for seq in (11, 12):  # a worker repeating the started marker publishes it once per claim
            assert holder.client.post(url, json={**good, "seq": seq, "started": True}).status_code == 200
        assert holder.report(claim, stdout="x\n").status_code == 200
        events = [ev for ev in watch.until(_finished(job_id)) if ev["job_id"] == job_id]
        outputs = [ev for ev in events if ev["type"] == "output"]
        assert sum(len(ev["data"]["text"]) for ev in outputs) == 65536
        assert [ev["data"].get("truncated") for ev in outputs].count(True) == 1  # one marker, not one per chunk
        assert "forged" not in json.dumps(events)
        assert [ev["type"] for ev in events].count("started") == 1
        # after the result, the claim is over: more output is refused
        r = holder.client.post(url, json={**good, "seq": 10, "text": "late"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "claim_lost"
    finally:
        holder.close()
        intruder.close()


def test_a_subscriber_that_reads_nothing_does_not_hold_jobs_up(env: Env, streams: list[Stream]) -> None:
    with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {env.ctl.admin_token}"},
                      timeout=60) as idle, idle.stream("GET", "/v1/events") as resp:
        assert resp.status_code == 200  # opened, then never read while jobs print their whole output cap
        flood = "for i in range(3000):\n    print('line', i, 'x' * 20)\n"
        ids = [_submit(env.ctl, env.agent, flood) for _ in range(3)]
        with env.ctl.client(env.agent) as c:
            for job_id in ids:
                body = c.get(f"/v1/jobs/{job_id}", params={"wait_s": 60}).json()
                assert body["status"] == "succeeded", body


def test_sse_wire_format(env: Env) -> None:
    """`id:` is the event id, `event:` its type, `data:` its JSON; a retry hint comes first."""
    job_id = _submit(env.ctl, env.agent, "print('wire')\n")
    with env.ctl.client(env.agent) as c:
        c.get(f"/v1/jobs/{job_id}", params={"wait_s": 30})
    with httpx.Client(base_url=env.ctl.url, headers={"Authorization": f"Bearer {env.agent}"}, timeout=30) as c, \
            c.stream("GET", "/v1/events", params={"job_id": job_id, "after": "0"}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["cache-control"] == "no-store"
        lines: list[str] = []
        for line in resp.iter_lines():
            lines.append(line)
            if line.startswith("event: finished"):
                break
    assert lines[0].startswith(": ") or lines[0].startswith("retry:")
    assert any(line.startswith("retry: ") for line in lines[:3])
    blocks = "\n".join(lines).split("\n\n")
    first = next(b for b in blocks if "event: created" in b)
    fields = dict(line.split(": ", 1) for line in first.splitlines() if not line.startswith(":"))
    assert json.loads(fields["data"])["id"] == int(fields["id"])



def test_trusted_job_approval_and_in_process_output(env: Env, streams: list[Stream]) -> None:
    """The approval events, and live output from the in-process (`trusted`) path."""
    admin = env.ctl.admin_token
    watch = Stream(env.ctl, admin)
    streams.append(watch)
    job_id = _submit(env.ctl, admin, printing("trusted says hi"), policy="trusted")
    waiting = watch.until(lambda ev: ev["job_id"] == job_id and ev["type"] == "approval_needed")
    assert [ev["type"] for ev in waiting if ev["job_id"] == job_id] == ["created", "approval_needed"]
    assert waiting[-1]["data"]["policy"] == "trusted"
    with env.ctl.client(admin) as c:
        assert c.post(f"/v1/jobs/{job_id}/approve").status_code == 200
    events = [ev for ev in watch.until(_finished(job_id)) if ev["job_id"] == job_id]
    assert [ev["type"] for ev in events][:3] == ["approved", "claimed", "started"]
    assert "".join(ev["data"]["text"] for ev in events if ev["type"] == "output") == "trusted says hi\n"
    assert events[-1]["data"]["status"] == "succeeded"
    # a rejected one ends with `rejected` then `finished`
    other = _submit(env.ctl, admin, "print('never')\n", policy="trusted")
    with env.ctl.client(admin) as c:
        assert c.post(f"/v1/jobs/{other}/reject", json={"reason": "not today"}).status_code == 200
    tail = [ev for ev in watch.until(_finished(other)) if ev["job_id"] == other]
    assert [ev["type"] for ev in tail] == ["created", "approval_needed", "rejected", "finished"]
    assert tail[2]["data"] == {"by": tail[2]["data"]["by"], "reason": "not today"}
    assert tail[-1]["data"]["status"] == "rejected"


def test_printed_text_cannot_forge_sse_frames(env: Env, streams: list[Stream]) -> None:
    """A script printing SSE syntax (or a CR, which SSE also treats as a line end) stays one output event."""
    watch = Stream(env.ctl, env.agent)
    streams.append(watch)
    forged = ('data: {"id": 1}\\r\\n\\r\\nevent: finished\\nid: 999999\\ndata: {"type": "finished"}'
              '\\n\\n<script>x</script>')
    job_id = _submit(env.ctl, env.agent, printing("x").replace("print('x')", f"print('{forged}')"))
    events = [ev for ev in watch.until(_finished(job_id)) if ev["job_id"] == job_id]
    outputs = [ev for ev in events if ev["type"] == "output"]
    assert [ev["type"] for ev in events].count("finished") == 1 and events[-1]["data"]["status"] == "succeeded"
    text = "".join(ev["data"]["text"] for ev in outputs)
    assert text == forged.replace("\\r", "\r").replace("\\n", "\n") + "\n"  # verbatim, as data
    assert all(ev["id"] < 999999 for ev in events)


def test_worker_relay_drops_with_a_marker_instead_of_waiting(env: Env, streams: list[Stream]) -> None:
    """The worker's bounded live buffer (worker/live.py) over the real transport: full -> dropped, counted."""
    from kitgate.worker.live import LiveRelay
    from kitgate.worker.transport import ControllerTransport
    from kitgate.worker.verify import Job

    job_id = _submit(env.ctl, env.agent, "print('x')\n", labels=["manual-relay"])
    holder = HttpWorker(env.ctl, env.manual_token, worker_id="manual-relay-1", labels=["manual-relay"])
    watch = Stream(env.ctl, env.agent, params={"job_id": job_id})
    streams.append(watch)
    transport = ControllerTransport(env.ctl.url, env.manual_token, timeout_s=10)
    try:
        claim = _manual_claim(env, holder)
        job = Job(job_id, claim["claim_id"], "", None, 10.0, {}, 0.0)
        relay = LiveRelay(max_pending_chars=10, min_interval_s=0.0, start_delay_s=0.0)
        relay.started(job)
        for piece in ("12345", "67890", "overflow!", "more"):  # 10 chars fit; the rest is dropped, never waited for
            relay.output(job, piece)
        assert relay.dropped_total == 2 and relay.tail().endswith("more")
        assert relay.drain(transport, "manual-relay-1") == 1
        relay.output(job, "after")
        relay.drain(transport, "manual-relay-1")
        assert holder.report(claim, stdout="x\n").status_code == 200
        events = [ev for ev in watch.until(_finished(job_id)) if ev["job_id"] == job_id]
        outputs = [ev["data"] for ev in events if ev["type"] == "output"]
        assert outputs[0]["text"] == "1234567890" and outputs[0]["dropped"] == 2
        assert outputs[1]["text"] == "after" and "dropped" not in outputs[1]
        assert [ev["type"] for ev in events].count("started") == 1
        relay.output(job, "late")  # the claim is over: the controller refuses, the relay stops for this claim
        relay.drain(transport, "manual-relay-1")
        relay.output(job, "later")
        assert relay.drain(transport, "manual-relay-1") == 0
    finally:
        transport.abort()
        holder.close()



def test_a_job_that_was_never_streamed_sends_nothing_at_its_end(env: Env) -> None:
    """The relay's rule that keeps quick jobs at their old request count: when a job finishes before any
    of its live output was sent, the rest is dropped (its result, reported next, carries all of it)."""
    from kitgate.worker.live import LiveRelay
    from kitgate.worker.transport import ControllerTransport
    from kitgate.worker.verify import Job

    transport = ControllerTransport(env.ctl.url, env.manual_token, timeout_s=10)
    try:
        job = Job("j_never_streamed", "claim-x", "", None, 10.0, {}, 0.0)
        relay = LiveRelay(start_delay_s=3600.0, min_interval_s=3600.0)  # nothing is due before the job ends
        relay.started(job)
        relay.output(job, "quick\n")
        assert relay.drain(transport, "w") == 0  # not due yet
        assert relay.drain(transport, "w", final=True) == 0 and relay.sent == 0 and not relay.pending
        assert relay.tail() == "quick\n"  # the status window still shows it
    finally:
        transport.abort()


def test_keepalive_comments_and_clean_shutdown(tmp_path: Path) -> None:
    """Idle streams get keep-alive comments; SIGTERM ends open streams so the controller exits cleanly."""
    ctl = ControllerProcess(tmp_path / "ctl", env={**FAST_ENV, "KITGATE_EVENT_HEARTBEAT_S": "0.2"})
    try:
        with httpx.Client(base_url=ctl.url, headers={"Authorization": f"Bearer {ctl.admin_token}"},
                          timeout=httpx.Timeout(30.0)) as c, c.stream("GET", "/v1/events") as resp:
            lines = resp.iter_lines()
            comments = []
            for line in lines:
                if line.startswith(":"):
                    comments.append(line)
                if len(comments) >= 2:  # the greeting, then a keep-alive while nothing happens
                    break
            assert comments[1].startswith(": ping")
            code = ctl.stop()
            rest = list(lines)  # the stream ends (no hang) once the controller shuts down
        # a graceful stop (uvicorn re-raises SIGTERM after it), not a SIGKILL after the grace period
        assert code in (0, -15), ctl.logs()[-2000:]
        assert "controller stopped" in ctl.logs()
        assert all(line.startswith(":") or line == "" for line in rest)
    finally:
        ctl.stop()
