"""The console's web security over real HTTP against a real controller: headers, sign-in, sessions, CSRF,
scopes and escaping. The browser tests (tests/e2e/test_console_browser.py) show the same from a browser;
these pin each rule down one request at a time, including the attacks a browser would not let us forge.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator

import httpx
import markupsafe
import pytest
from harness import FAST_ENV, ControllerProcess, HttpWorker, run_kitgate

from controller.security.helpers import data_dir_args, jti_of

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'&'
PENDING_JOB = "x = 1\n"


class Browserish:
    """An httpx client that behaves like a same-origin browser tab: cookies, Origin, Sec-Fetch-Site."""

    def __init__(self, ctl: ControllerProcess) -> None:
        self.ctl = ctl
        self.http = httpx.Client(base_url=ctl.url, follow_redirects=False, timeout=30)

    def post(self, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
        base = {"Origin": self.ctl.url, "Sec-Fetch-Site": "same-origin"}
        return self.http.post(path, data=data, headers={**base, **headers})

    def get(self, path: str, **kw: object) -> httpx.Response:
        return self.http.get(path, **kw)  # type: ignore[arg-type]

    def sign_in(self, token: str) -> httpx.Response:
        pre = re.search(r'name="pre" value="([^"]+)"', self.get("/console/login").text).group(1)
        return self.post("/console/login", {"pre": pre, "token": token})

    def csrf(self) -> str:
        page = self.get("/console/jobs")
        assert page.status_code == 200, page.text[:500]
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    env = {**FAST_ENV, "KITGATE_CONSOLE_RATE_SIGNIN": "1000/minute"}
    with ControllerProcess(tmp_path_factory.mktemp("console-http"), env=env) as c:
        yield c


@pytest.fixture()
def tab(ctl: ControllerProcess) -> Iterator[Browserish]:
    t = Browserish(ctl)
    yield t
    t.close()


def _pending(ctl: ControllerProcess, sub: str) -> tuple[str, str]:
    """A trusted job waiting for approval, and its requester's token."""
    token = ctl.mint_token("jobs:submit", "jobs:read", sub=sub, policies=["trusted"])
    with ctl.client(token) as c:
        r = c.post("/v1/jobs", json={"code": PENDING_JOB, "policy": "trusted"})
        assert r.status_code == 202 and r.json()["status"] == "pending_approval", r.text
        return r.json()["id"], token


def _status(ctl: ControllerProcess, job_id: str) -> str:
    with ctl.admin() as a:
        return a.get(f"/v1/jobs/{job_id}").json()["status"]


def _audit(ctl: ControllerProcess, event: str) -> list[dict]:
    with ctl.admin() as a:
        return a.get("/v1/audit", params={"event": event, "limit": 1000}).json()["records"]


# ---- headers ---------------------------------------------------------------------------------------
def test_every_console_response_carries_the_browser_headers(ctl: ControllerProcess, tab: Browserish) -> None:
    responses = {
        "redirect": tab.get("/console/jobs"),
        "login": tab.get("/console/login"),
        "static": tab.get("/console/static/console.js"),
        "missing static": tab.get("/console/static/..%2f..%2fsettings.py"),
        "events unauthenticated": tab.get("/console/events"),
    }
    tab.sign_in(ctl.admin_token)
    responses["page"] = tab.get("/console/jobs")
    responses["refusal"] = tab.get("/console/jobs/j_doesnotexist")
    for name, r in responses.items():
        assert r.headers["content-security-policy"] == CSP, name
        assert r.headers["x-frame-options"] == "DENY", name
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "no-referrer", name
    assert responses["redirect"].status_code == 303 and responses["redirect"].headers["location"] == "/console/login"
    assert responses["events unauthenticated"].status_code == 401
    assert responses["missing static"].status_code == 404
    assert responses["refusal"].status_code == 404 and "text/html" in responses["refusal"].headers["content-type"]
    assert responses["page"].headers["cache-control"] == "no-store"
    assert responses["static"].headers["content-type"].startswith("text/javascript")
    # no inline script or style anywhere: the CSP would block it, and the pages do not need it
    for name in ("login", "page"):
        body = responses[name].text
        assert "<script>" not in body and " style=" not in body and "onclick" not in body, name
    sinks = re.findall(r"\.(?:inner|outer)HTML|insertAdjacentHTML|document\.write|\beval\(|new Function",
                       responses["static"].text)
    assert sinks == []  # text goes in with textContent / createTextNode only


# ---- sign-in ---------------------------------------------------------------------------------------
def test_sign_in_sets_an_opaque_strict_httponly_session_cookie(ctl: ControllerProcess, tab: Browserish) -> None:
    token = ctl.mint_token("jobs:read", sub="cookie-check", ttl_s=120)
    r = tab.sign_in(token)
    assert r.status_code == 303 and r.headers["location"] == "/console/jobs", r.text[:300]
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kitgate_console="))
    value = cookie.split(";")[0].split("=", 1)[1]
    assert token not in cookie and len(value) >= 40
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= flags
    max_age = int(next(f for f in flags if f.startswith("max-age=")).split("=")[1])
    assert max_age <= 120  # never beyond the token's own expiry
    signed_in = _audit(ctl, "console.signed_in")
    assert any(rec["actor"] == "cookie-check" for rec in signed_in)
    assert token not in str(signed_in)


def test_sign_in_refusals(ctl: ControllerProcess, tab: Browserish) -> None:
    bad = tab.sign_in("eyJhbGciOiJFZERTQSJ9.e30.AAAA")
    assert bad.status_code == 401 and "not accepted" in bad.text and "kitgate_console=" not in str(bad.headers)
    worker = tab.sign_in(ctl.mint_token("worker"))
    assert worker.status_code == 403 and "jobs:read" in worker.text
    pre = re.search(r'name="pre" value="([^"]+)"', tab.get("/console/login").text).group(1)
    # login CSRF: the form token must match the pre-session cookie; a foreign origin is refused
    assert tab.post("/console/login", {"pre": "forged", "token": ctl.admin_token}).status_code == 403
    assert tab.post("/console/login", {"pre": pre, "token": ctl.admin_token},
                    Origin="http://evil.example", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # size and type limits before anything is parsed
    huge = tab.post("/console/login", {"pre": pre, "token": "a" * 20_000})
    assert huge.status_code == 413 and "larger than" in huge.text
    r = tab.http.post("/console/login", json={"token": ctl.admin_token},
                      headers={"Origin": ctl.url, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 415
    assert {rec["data"]["reason"] for rec in _audit(ctl, "console.csrf_refused")} >= {
        "login_token_mismatch", "sec_fetch_site_cross-site"}


def test_secure_cookies_and_the_sign_in_rate_limit(controller_factory) -> None:
    """One dedicated controller: Secure cookies on (as behind a TLS proxy), and 3 sign-ins a minute per address."""
    ctl = controller_factory({"KITGATE_CONSOLE_COOKIE_SECURE": "true", "KITGATE_CONSOLE_RATE_SIGNIN": "3/minute"},
                             name="console-strict")

    def attempt(token: str) -> httpx.Response:
        form = httpx.get(f"{ctl.url}/console/login")
        pre_cookie = form.headers["set-cookie"]
        assert "secure" in {p.strip().lower() for p in pre_cookie.split(";")}
        pre = pre_cookie.split(";")[0].split("=", 1)[1]
        # httpx (rightly) keeps a Secure cookie off plain http: send it by hand, as a TLS proxy would pass it
        return httpx.post(f"{ctl.url}/console/login", data={"pre": pre, "token": token},
                          cookies={"kitgate_console_pre": pre}, headers={"Sec-Fetch-Site": "same-origin"})

    r = attempt(ctl.admin_token)
    assert r.status_code == 303, r.text[:300]
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kitgate_console="))
    assert "secure" in {p.strip().lower() for p in cookie.split(";")}
    codes = [attempt("wrong-token").status_code for _ in range(3)]
    assert codes == [401, 401, 429], codes
    limited = attempt(ctl.admin_token)  # even the right token waits: the budget is per address
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "too many sign-in attempts" in limited.text


# ---- sessions --------------------------------------------------------------------------------------
def test_sign_out_and_revocation_end_the_session(ctl: ControllerProcess, tab: Browserish) -> None:
    token = ctl.mint_token("jobs:read", sub="revoke-me")
    tab.sign_in(token)
    stolen = tab.http.cookies.get("kitgate_console", path="/console")
    assert tab.get("/console/jobs").status_code == 200
    run_kitgate(["token", "revoke", jti_of(token), *data_dir_args(ctl)])
    r = tab.get("/console/jobs")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"  # the revoked token's session died

    other = Browserish(ctl)
    try:
        other.sign_in(ctl.mint_token("jobs:read", sub="signs-out"))
        cookie = other.http.cookies.get("kitgate_console", path="/console")
        assert other.post("/console/logout", {"csrf": "wrong"}).status_code == 403  # sign-out is a form too
        assert other.post("/console/logout", {"csrf": other.csrf()}).status_code == 303
        replay = httpx.get(f"{ctl.url}/console/jobs", cookies={"kitgate_console": cookie}, follow_redirects=False)
        assert replay.status_code == 303  # the old cookie is worth nothing after sign-out
        replay = httpx.get(f"{ctl.url}/console/jobs", cookies={"kitgate_console": stolen}, follow_redirects=False)
        assert replay.status_code == 303
    finally:
        other.close()


# ---- CSRF and scopes on the operator forms ------------------------------------------------------------
def test_approve_needs_admin_csrf_and_the_same_origin(ctl: ControllerProcess, tab: Browserish) -> None:
    job_id, requester = _pending(ctl, "csrf-requester")
    tab.sign_in(ctl.admin_token)
    good = tab.csrf()
    other = Browserish(ctl)
    other.sign_in(ctl.admin_token)
    theirs = other.csrf()
    other.close()
    attempts = {
        "no token": tab.post(f"/console/jobs/{job_id}/approve", {"reason": "x"}),
        "wrong token": tab.post(f"/console/jobs/{job_id}/approve", {"csrf": good[:-2] + "xx"}),
        "another session's token": tab.post(f"/console/jobs/{job_id}/approve", {"csrf": theirs}),
        "cross-site": tab.post(f"/console/jobs/{job_id}/approve", {"csrf": good}, Origin="http://evil.example",
                               **{"Sec-Fetch-Site": "cross-site"}),
        "foreign origin": tab.post(f"/console/jobs/{job_id}/approve", {"csrf": good}, Origin="http://evil.example",
                                   **{"Sec-Fetch-Site": "same-origin"}),
    }
    for name, r in attempts.items():
        assert r.status_code == 403, (name, r.status_code)
    anonymous = httpx.post(f"{ctl.url}/console/jobs/{job_id}/approve", data={"csrf": good},
                           headers={"Origin": ctl.url, "Sec-Fetch-Site": "same-origin"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    assert _status(ctl, job_id) == "pending_approval"

    # a jobs:read (+submit) session: its own valid CSRF token, and still no approving
    ro = Browserish(ctl)
    try:
        ro.sign_in(requester)
        page = ro.get(f"/console/jobs/{job_id}").text
        assert "/approve" not in page and "/reject" not in page and 'id="approve"' not in page
        assert ro.get("/console/approvals").status_code == 403
        forged = ro.post(f"/console/jobs/{job_id}/approve", {"csrf": ro.csrf()})
        assert forged.status_code == 403 and "lacks the scope admin" in forged.text
        assert ro.post(f"/console/jobs/{job_id}/reject", {"csrf": ro.csrf(), "reason": "x"}).status_code == 403
    finally:
        ro.close()
    assert _status(ctl, job_id) == "pending_approval"
    assert any(rec["actor"] == "csrf-requester" for rec in _audit(ctl, "auth.denied_scope"))

    ok = tab.post(f"/console/jobs/{job_id}/approve", {"csrf": good})
    assert ok.status_code == 303 and ok.headers["location"] == f"/console/jobs/{job_id}"
    assert _status(ctl, job_id) == "queued"
    again = tab.post(f"/console/jobs/{job_id}/approve", {"csrf": good})
    assert again.status_code == 409  # no longer waiting: said so, not a 500


def test_reject_needs_a_reason(ctl: ControllerProcess, tab: Browserish) -> None:
    job_id, _ = _pending(ctl, "reject-requester")
    tab.sign_in(ctl.admin_token)
    csrf = tab.csrf()
    assert tab.post(f"/console/jobs/{job_id}/reject", {"csrf": csrf, "reason": "  "}).status_code == 422
    assert tab.post(f"/console/jobs/{job_id}/reject", {"csrf": csrf, "reason": "r" * 1001}).status_code == 422
    assert tab.post(f"/console/jobs/{job_id}/reject", {"csrf": csrf, "reason": "no"}).status_code == 303
    with ctl.admin() as a:
        job = a.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "rejected" and job["result"]["error"]["message"] == "no"


def test_a_reader_sees_only_its_own_jobs_and_no_admin_pages(ctl: ControllerProcess, tab: Browserish) -> None:
    theirs, _ = _pending(ctl, "someone-else")
    mine_token = ctl.mint_token("jobs:submit", "jobs:read", sub="reader-self")
    with ctl.client(mine_token) as c:
        mine = c.post("/v1/jobs", json={"code": "y = 2\n", "labels": ["nobody-serves-this"]}).json()["id"]
    tab.sign_in(mine_token)
    listing = tab.get("/console/jobs").text
    assert mine in listing and theirs not in listing
    assert tab.get("/console/jobs", params={"owner": "someone-else"}).text.count("data-job-id=") == 1  # ignored
    assert tab.get(f"/console/jobs/{theirs}").status_code == 404
    for path in ("/console/approvals", "/console/workers", "/console/audit"):
        assert tab.get(path).status_code == 403, path
    assert tab.get("/console/policies").status_code == 200


# ---- escaping ----------------------------------------------------------------------------------------
def test_every_stored_value_is_escaped(ctl: ControllerProcess, tab: Browserish) -> None:
    owner = ctl.mint_token("jobs:submit", "jobs:read", sub="owner" + XSS)  # a token subject is free text
    with ctl.client(owner) as c:
        job_id = c.post("/v1/jobs", json={"code": f"# {XSS}\nprint({XSS!r})\n", "labels": ["w-escape"]}).json()["id"]
    w = HttpWorker(ctl, ctl.mint_token("worker"), worker_id="w-escape", labels=["w-escape"])
    try:
        while True:  # unlabelled jobs of earlier tests come first; finish them
            claim = w.client.post("/v1/workers/claim", json={"worker_id": "w-escape", "labels": ["w-escape"],
                                                             "stage": XSS}).json()
            if claim["job_id"] == job_id:
                break
            w.report(claim, "succeeded").raise_for_status()
        w.report(claim, "failed", stdout=XSS, error={"type": "ValueError", "message": XSS, "line": 2},
                 value={"k": XSS}, changed_prims=[f"/World/{XSS}"]).raise_for_status()
    finally:
        w.close()
    tab.sign_in(ctl.admin_token)
    escaped = str(markupsafe.escape(XSS))  # &lt; &gt; &#34; &#39; &amp;
    for path in (f"/console/jobs/{job_id}", "/console/jobs", "/console/workers", "/console/audit"):
        body = tab.get(path).text
        assert "<img src=x" not in body and "<script>alert" not in body, path
    body = tab.get(f"/console/jobs/{job_id}").text
    assert body.count(escaped) >= 3  # code, output, error (and the flagged line's note)
    assert escaped in tab.get("/console/workers").text
    assert "owner" + escaped in tab.get("/console/jobs").text
    as_owner = Browserish(ctl)
    try:
        as_owner.sign_in(owner)
        page = as_owner.get("/console/jobs").text
        assert "<img src=x" not in page and f'id="whoami">owner{escaped}<' in page
    finally:
        as_owner.close()


# ---- live events ---------------------------------------------------------------------------------------
def _first_events(client: httpx.Client, path: str, want: int, timeout: float = 20) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout
    with client.stream("GET", path, timeout=timeout) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:") and '"job_id"' in line:
                got.append(line)
            if len(got) >= want or time.monotonic() > deadline:
                break
    return got


def test_the_event_stream_is_scoped_by_the_session(ctl: ControllerProcess, tab: Browserish) -> None:
    mine_token = ctl.mint_token("jobs:submit", "jobs:read", sub="stream-self")
    tab.sign_in(mine_token)
    with ctl.admin() as admin:
        admin.post("/v1/jobs", json={"code": "a = 1\n", "labels": ["nobody-serves-this"]})  # not ours
    with ctl.client(mine_token) as c:
        mine = c.post("/v1/jobs", json={"code": "b = 1\n", "labels": ["nobody-serves-this"]}).json()["id"]
    events = _first_events(tab.http, "/console/events?after=0", want=1)
    assert events and all(mine in e for e in events), events
    assert all('"owner": "stream-self"' in e for e in events), events


# ---- audit browser -------------------------------------------------------------------------------------
def test_the_audit_page_shows_a_broken_chain(ctl: ControllerProcess, tab: Browserish) -> None:
    tab.sign_in(ctl.admin_token)
    page = tab.get("/console/audit").text
    assert "Chain verified" in page and "console.signed_in" in page
    db = sqlite3.connect(ctl.data_dir / "kitgate.sqlite3", isolation_level=None)
    try:
        (original,) = db.execute("SELECT data FROM audit WHERE seq=2").fetchone()
        db.execute("UPDATE audit SET data=? WHERE seq=2", (original.replace("POST", "GET") + " ",))
        broken = tab.get("/console/audit").text
        assert "Chain BROKEN at record 2" in broken and "does not match its hash" in broken
    finally:
        db.execute("UPDATE audit SET data=? WHERE seq=2", (original,))
        db.close()
    assert "Chain verified" in tab.get("/console/audit").text
