"""Attacks on the live-event surfaces (wave 2): GET /v1/events, /console/events and POST /v1/jobs/{id}/output,
and on the worker's report-and-claim, over a real controller (tests/harness.py) driven by real HTTP.

Why a file of its own: these surfaces arrived in one commit (9c301c3) and were attacked after it. Each test
is either the regression of a hole found then (it failed on 9c301c3) or a guard asserting a defence that held.
Found and fixed here:
- a stream outlived its credential: after `kitgate token revoke` (or expiry) an open /v1/events or
  /console/events stream kept delivering events for ever (the check every request gets ran only when it
  opened);
- live output was accepted from another credential of the same subject holding the claim id, although
  a result report from it is refused (worker ids are bound to a credential, not a name).
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from controller.security.helpers import assert_envelope, data_dir_args, jti_of
from harness import FAST_ENV, ControllerProcess, HttpWorker, run_kitgate

NOBODY = ["nobody-serves-this"]  # jobs that stay queued: no worker has this label


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    env = {**FAST_ENV, "KITGATE_CONSOLE_RATE_SIGNIN": "1000/minute", "KITGATE_EVENT_HEARTBEAT_S": "0.5"}
    with ControllerProcess(tmp_path_factory.mktemp("wave2-events"), env=env) as c:
        yield c


class Reader:
    """An SSE response read line by line on a thread; `lines` gets each `data:` line, then None at the end."""

    def __init__(self, client: httpx.Client, path: str, **kw: Any) -> None:
        self.client = client
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.status: int | None = None
        self.opened = threading.Event()
        self._resp: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, args=(path, kw), daemon=True)
        self._thread.start()
        assert self.opened.wait(30), "the stream did not open"

    def _run(self, path: str, kw: dict[str, Any]) -> None:
        try:
            with self.client.stream("GET", path, timeout=httpx.Timeout(30.0, read=60.0), **kw) as resp:
                self._resp, self.status = resp, resp.status_code
                self.opened.set()
                for line in resp.iter_lines():
                    if line.startswith("data:"):
                        self.lines.put(line[5:].strip())
        except (httpx.HTTPError, httpx.StreamClosed, OSError):
            pass
        finally:
            self.opened.set()
            self.lines.put(None)

    def saw(self, needle: str, seconds: float = 10.0) -> bool:
        """A data line containing `needle` arrived within `seconds` (False if the stream ended first)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                return False
            if needle in line:
                return True
        return False

    def ended_within(self, seconds: float) -> tuple[bool, list[str]]:
        """(the server ended the stream within `seconds`, the data lines seen meanwhile)."""
        seen: list[str] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                return True, seen
            seen.append(line)
        return False, seen

    def close(self) -> None:
        if self._resp is not None:
            with contextlib.suppress(Exception):
                self._resp.close()
        self._thread.join(10)


def _submit(ctl: ControllerProcess, token: str, **extra: Any) -> str:
    with ctl.client(token) as c:
        r = c.post("/v1/jobs", json={"code": "x = 1\n", "labels": NOBODY, **extra})
        assert r.status_code == 202, r.text
        return r.json()["id"]


def _revoke(ctl: ControllerProcess, token: str) -> None:
    run_kitgate(["token", "revoke", jti_of(token), *data_dir_args(ctl)])


# ---- streams end with their credential (FIXED) ---------------------------------------------------------
def test_a_revoked_token_loses_its_open_event_stream(ctl: ControllerProcess) -> None:
    """Was: an open GET /v1/events kept streaming the revoked token's jobs' events indefinitely."""
    token = ctl.mint_token("jobs:submit", "jobs:read", sub="w2-revoked-stream")
    client = ctl.client(token)
    reader = Reader(client, "/v1/events")
    try:
        assert reader.status == 200
        assert reader.saw(_submit(ctl, token))  # the stream works while the token is live
        _revoke(ctl, token)
        assert client.get("/v1/jobs").status_code == 401  # every new request is refused at once ...
        ended, _ = reader.ended_within(10)
        assert ended, "the revoked token's open event stream was still running 10 s after the revocation"
    finally:
        reader.close()
        client.close()


def test_a_revoked_token_loses_its_open_console_stream(ctl: ControllerProcess) -> None:
    """Was: /console/events only looked at the session, which a revocation drops on the next *page* request."""
    token = ctl.mint_token("jobs:submit", "jobs:read", sub="w2-revoked-console")
    tab = httpx.Client(base_url=ctl.url, follow_redirects=False, timeout=30)
    try:
        pre = re.search(r'name="pre" value="([^"]+)"', tab.get("/console/login").text).group(1)
        signed = tab.post("/console/login", data={"pre": pre, "token": token},
                          headers={"Origin": ctl.url, "Sec-Fetch-Site": "same-origin"})
        assert signed.status_code == 303
        reader = Reader(tab, "/console/events")
        try:
            assert reader.status == 200
            assert reader.saw(_submit(ctl, token))
            _revoke(ctl, token)
            ended, _ = reader.ended_within(10)
            assert ended, "the revoked token's console stream was still running 10 s after the revocation"
        finally:
            reader.close()
        assert tab.get("/console/jobs").status_code == 303  # and the session is gone with it
    finally:
        tab.close()


# ---- live output: only the credential that holds the claim (FIXED) ------------------------------------
def test_output_from_another_credential_of_the_same_subject_is_refused(ctl: ControllerProcess) -> None:
    """Was: POST /v1/jobs/{id}/output compared the claim's *subject*; a second worker token of that subject
    holding the claim id published text as the job's output while its result report was refused."""
    holder_token = ctl.mint_token("worker", sub="w2-shared-worker")
    other_token = ctl.mint_token("worker", sub="w2-shared-worker")
    job = _submit(ctl, ctl.admin_token, labels=["w2-output-cred"])
    holder = HttpWorker(ctl, holder_token, "w2-holder", labels=["w2-output-cred"])
    other = HttpWorker(ctl, other_token, "w2-other")
    try:
        claim = holder.claim()
        assert claim is not None and claim["job_id"] == job
        forged = {"worker_id": "w2-holder", "claim_id": claim["claim_id"], "text": "forged by the other token"}
        assert_envelope(other.client.post(f"/v1/jobs/{job}/output", json=forged), 409, "not_claimed")
        ids = {"worker_id": "w2-holder", "claim_id": claim["claim_id"]}
        report = other.client.post(f"/v1/jobs/{job}/result", json={"status": "succeeded", **ids})
        assert_envelope(report, 403, "worker_id_taken")  # the same answer a report got already
        mine = holder.client.post(f"/v1/jobs/{job}/output", json={**forged, "text": "the holder's own"})
        assert mine.status_code == 200 and mine.json()["accepted_bytes"] == len("the holder's own")
        assert holder.report(claim).status_code == 200
    finally:
        holder.close()
        other.close()


def test_output_bodies_that_must_be_refused(ctl: ControllerProcess) -> None:
    """Guards: a forged claim id, another worker's job, oversized or malformed chunks, and after the result."""
    token = ctl.mint_token("worker")
    stranger = HttpWorker(ctl, ctl.mint_token("worker"), "w2-stranger")
    w = HttpWorker(ctl, token, "w2-out", labels=["w2-out"])
    job = _submit(ctl, ctl.admin_token, labels=["w2-out"])
    try:
        claim = w.claim()
        assert claim is not None and claim["job_id"] == job
        url = f"/v1/jobs/{job}/output"
        base = {"worker_id": "w2-out", "claim_id": claim["claim_id"]}
        assert_envelope(w.client.post(url, json={**base, "claim_id": "c_forged", "text": "x"}), 409, "not_claimed")
        assert_envelope(stranger.client.post(url, json={**base, "worker_id": "w2-stranger", "text": "x"}),
                        409, "not_claimed")
        assert_envelope(w.client.post("/v1/jobs/j_missing000/output", json={**base, "text": "x"}), 409, "not_claimed")
        for bad in ({"text": "x" * 16385}, {"seq": -1}, {"seq": 2**40}, {"dropped": -5}, {"text": 5},
                    {"html": "<b>"}, {"started": "yes please"}):
            assert_envelope(w.client.post(url, json={**base, **bad}), 422)
        huge = w.client.post(url, content=b'{"text":"' + b"a" * (2 << 20) + b'"}',
                             headers={"content-type": "application/json"})
        assert huge.status_code == 413
        lone = w.client.post(url, content=b'{"worker_id":"w2-out","claim_id":"%s","text":"\\ud800ok"}'
                             % claim["claim_id"].encode(), headers={"content-type": "application/json"})
        assert_envelope(lone, 422)  # a lone surrogate is not text: refused, never stored or relayed
        assert w.report(claim).status_code == 200
        assert_envelope(w.client.post(url, json={**base, "text": "after the result"}), 409, "claim_lost")
    finally:
        w.close()
        stranger.close()


# ---- resume ids and job filters (held) ---------------------------------------------------------------
@pytest.mark.parametrize("value", ["-1", "1" * 19, "abc", "1e3", "1 2", "0x10", "1_000", "+5"])
def test_last_event_id_must_be_plain_digits(ctl: ControllerProcess, value: str) -> None:
    with ctl.admin() as a:
        r = a.get("/v1/events", headers={"Last-Event-ID": value})
        assert_envelope(r, 422, "validation_error")
        assert_envelope(a.get("/v1/events", params={"after": value}), 422, "validation_error")


def test_non_ascii_digits_in_resume_ids_are_refused_not_crashed(ctl: ControllerProcess) -> None:
    """'²' passes str.isdigit() but not int(): the API route's pattern refuses it, never a 500."""
    with ctl.admin() as a:
        assert_envelope(a.get("/v1/events", headers={"Last-Event-ID": b"\xb2"}), 422, "validation_error")
        assert_envelope(a.get("/v1/events", params={"after": "\u0662"}), 422, "validation_error")


def test_job_filter_does_not_tell_another_owners_job_from_a_missing_one(ctl: ControllerProcess) -> None:
    theirs = _submit(ctl, ctl.mint_token("jobs:submit", "jobs:read", sub="w2-victim"))
    spy = ctl.mint_token("jobs:read", sub="w2-spy")
    with ctl.client(spy) as c:
        other = assert_envelope(c.get("/v1/events", params={"job_id": theirs}), 404)
        missing_id = "j_" + "0" * len(theirs[2:])
        missing = assert_envelope(c.get("/v1/events", params={"job_id": missing_id}), 404)
    assert other["code"] == missing["code"]
    assert other["message"].replace(theirs, "ID") == missing["message"].replace(missing_id, "ID")
    details = json.dumps(other["details"]).replace(theirs, "ID")
    assert details == json.dumps(missing["details"]).replace(missing_id, "ID")


def test_a_worker_credential_gets_no_stream(ctl: ControllerProcess) -> None:
    with ctl.client(ctl.mint_token("worker")) as c:
        assert_envelope(c.get("/v1/events"), 403)


# ---- report-and-claim (held) --------------------------------------------------------------------------
def test_report_and_claim_cannot_borrow_another_credentials_worker_id(ctl: ControllerProcess) -> None:
    owner = HttpWorker(ctl, ctl.mint_token("worker"), "w2-rac-owner", labels=["w2-rac"])
    thief_token = ctl.mint_token("worker")
    thief = HttpWorker(ctl, thief_token, "w2-rac-thief", labels=["w2-rac"])
    first = _submit(ctl, ctl.admin_token, labels=["w2-rac"])
    try:
        assert owner.heartbeat().status_code == 200  # the owner's credential now holds "w2-rac-owner"
        claim = thief.claim()
        assert claim is not None and claim["job_id"] == first
        waiting = _submit(ctl, ctl.admin_token, labels=["w2-rac"])
        body = {"status": "succeeded", "worker_id": "w2-rac-owner", "claim_id": claim["claim_id"]}
        r = thief.client.post(f"/v1/jobs/{first}/result", params={"next": "true", "label": "w2-rac"}, json=body)
        assert_envelope(r, 403, "worker_id_taken")
        with ctl.admin() as a:
            assert a.get(f"/v1/jobs/{waiting}").json()["status"] == "queued"  # nothing claimed for the thief
        ok = thief.client.post(f"/v1/jobs/{first}/result", params={"next": "true", "label": "w2-rac"},
                               json={**body, "worker_id": "w2-rac-thief"})
        assert ok.status_code == 200 and ok.json()["next"]["job_id"] == waiting
        assert thief.report(ok.json()["next"]).status_code == 200
    finally:
        owner.close()
        thief.close()


@pytest.mark.parametrize("params", [
    {"label": "bad label"}, {"label": "<script>"}, {"label": ["a"] * 65}, {"label": "x" * 200},
    {"wait_s": "nan"}, {"wait_s": "inf"}, {"wait_s": "-1"}, {"wait_s": "601"}, {"stage": "s" * 1025},
])
def test_report_and_claim_query_is_bounded(ctl: ControllerProcess, params: dict[str, Any]) -> None:
    w = HttpWorker(ctl, ctl.mint_token("worker"), f"w2-q-{uuid.uuid4().hex[:8]}", labels=["w2-q"])
    job = _submit(ctl, ctl.admin_token, labels=["w2-q"])
    try:
        claim = w.claim()
        assert claim is not None and claim["job_id"] == job
        body = {"status": "succeeded", "worker_id": w.worker_id, "claim_id": claim["claim_id"]}
        r = w.client.post(f"/v1/jobs/{job}/result", params={"next": "true", **params}, json=body)
        assert_envelope(r, 422)
        with ctl.admin() as a:
            assert a.get(f"/v1/jobs/{job}").json()["status"] == "running"  # a refused query reports nothing
        assert w.report(claim).status_code == 200
    finally:
        w.close()
