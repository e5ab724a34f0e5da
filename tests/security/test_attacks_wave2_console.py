"""Attacks on the operator console (wave 2), over a real controller with an httpx "browser".

Why: the console is the one cookie-authenticated surface, so it gets the browser attacks an API does not
(fixation, login CSRF, token reuse across sessions, redirects, framing, method tricks) plus crafted query
strings. Found and fixed here: a query or Last-Event-ID made of non-ASCII digits ("²" passes
`str.isdigit()`, `int()` refuses it) was a 500 with a traceback on /console/jobs, /console/audit and
/console/events (the connection was even reset on /console/audit). The rest held and is pinned as guards.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import markupsafe
import pytest
from harness import FAST_ENV, ControllerProcess, HttpWorker

COOKIE = "kitgate_console"
XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    env = {**FAST_ENV, "KITGATE_CONSOLE_RATE_SIGNIN": "1000/minute"}
    with ControllerProcess(tmp_path_factory.mktemp("wave2-console"), env=env) as c:
        yield c


class Tab:
    def __init__(self, ctl: ControllerProcess) -> None:
        self.ctl = ctl
        self.http = httpx.Client(base_url=ctl.url, follow_redirects=False, timeout=30)

    def same_origin(self) -> dict[str, str]:
        return {"Origin": self.ctl.url, "Sec-Fetch-Site": "same-origin"}

    def pre(self) -> str:
        return re.search(r'name="pre" value="([^"]+)"', self.http.get("/console/login").text).group(1)

    def sign_in(self, token: str, path: str = "/console/login") -> httpx.Response:
        pre = self.pre()
        return self.http.post(path, data={"pre": pre, "token": token}, headers=self.same_origin())

    def csrf(self) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.http.get("/console/jobs").text).group(1)

    def close(self) -> None:
        self.http.close()


@pytest.fixture()
def tab(ctl: ControllerProcess) -> Iterator[Tab]:
    t = Tab(ctl)
    yield t
    t.close()


def _pending(ctl: ControllerProcess) -> str:
    token = ctl.mint_token("jobs:submit", "jobs:read", policies=["trusted"])
    with ctl.client(token) as c:
        r = c.post("/v1/jobs", json={"code": "x = 1\n", "policy": "trusted"})
        assert r.status_code == 202 and r.json()["status"] == "pending_approval", r.text
        return r.json()["id"]


def _status(ctl: ControllerProcess, job_id: str) -> str:
    with ctl.admin() as a:
        return a.get(f"/v1/jobs/{job_id}").json()["status"]


# ---- crafted numbers (FIXED) ---------------------------------------------------------------------------
@pytest.mark.parametrize("digits", ["\u00b2", "\u0663", "\uff11", "1\u00b2"])
def test_non_ascii_digits_in_console_queries_are_ignored_not_a_500(ctl: ControllerProcess, tab: Tab,
                                                                   digits: str) -> None:
    """Was: `value.isdigit()` then `int(value)`: '²' passes the first and fails the second (500 / reset)."""
    assert tab.sign_in(ctl.admin_token).status_code == 303
    for path, name in (("/console/jobs", "cursor"), ("/console/audit", "since_seq")):
        r = tab.http.get(path, params={name: digits})
        assert r.status_code == 200, (path, r.status_code)
    with tab.http.stream("GET", "/console/events", params={"after": digits}) as r:
        assert r.status_code == 200
    if digits.encode("latin-1", "ignore").decode("latin-1") == digits:  # a header carries latin-1 only
        with tab.http.stream("GET", "/console/events", headers={"Last-Event-ID": digits.encode("latin-1")}) as r:
            assert r.status_code == 200


# ---- sessions and sign-in (held) -----------------------------------------------------------------------
def test_a_planted_session_cookie_is_never_adopted(ctl: ControllerProcess, tab: Tab) -> None:
    planted = "A" * 43
    tab.http.cookies.set(COOKIE, planted, path="/console")
    assert tab.http.get("/console/jobs").status_code == 303  # an unknown id is no session
    r = tab.sign_in(ctl.mint_token("jobs:read"))
    assert r.status_code == 303
    issued = re.search(COOKIE + r"=([^;]+)", r.headers["set-cookie"]).group(1)
    assert issued != planted and len(issued) >= 43
    fixed = httpx.get(f"{ctl.url}/console/jobs", cookies={COOKIE: planted}, follow_redirects=False)
    assert fixed.status_code == 303


def test_sign_in_ignores_next_and_always_lands_on_the_console(ctl: ControllerProcess, tab: Tab) -> None:
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        pre = tab.pre()
        r = tab.http.post("/console/login", params={"next": target}, headers=tab.same_origin(),
                          data={"pre": pre, "token": ctl.mint_token("jobs:read"), "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/console/jobs", target
    assert tab.http.get("/console", params={"next": "//evil.example"}).headers["location"] == "/console/jobs"


def test_login_csrf_a_cross_site_form_with_the_attackers_own_pre_token_is_refused(ctl: ControllerProcess,
                                                                                    tab: Tab) -> None:
    """The attacker fetched a valid (pre cookie, field) pair for themselves; the victim's browser posts it
    cross-site. The browser-sent Sec-Fetch-Site/Origin refuse it, and the victim's own pre cookie differs."""
    attacker = Tab(ctl)
    try:
        pre = attacker.pre()
        evil_token = ctl.mint_token("jobs:read", sub="attacker")
        tab.pre()  # the victim has visited the sign-in page: it holds a pre cookie of its own
        for headers in ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                        {"Origin": "null"}, {}):
            r = tab.http.post("/console/login", data={"pre": pre, "token": evil_token}, headers=headers)
            assert r.status_code == 403 and COOKIE + "=" not in r.headers.get("set-cookie", ""), headers
    finally:
        attacker.close()


def test_a_csrf_token_is_worth_nothing_in_another_session(ctl: ControllerProcess, tab: Tab) -> None:
    job = _pending(ctl)
    other = Tab(ctl)
    try:
        assert other.sign_in(ctl.admin_token).status_code == 303
        stolen = other.csrf()
        assert tab.sign_in(ctl.admin_token).status_code == 303
        assert tab.csrf() != stolen
        r = tab.http.post(f"/console/jobs/{job}/approve", data={"csrf": stolen}, headers=tab.same_origin())
        assert r.status_code == 403 and _status(ctl, job) == "pending_approval"
    finally:
        other.close()


def test_the_session_cookie_is_not_an_api_credential(ctl: ControllerProcess, tab: Tab) -> None:
    r = tab.sign_in(ctl.admin_token)
    assert "path=/console" in r.headers["set-cookie"].lower()
    session = tab.http.cookies.get(COOKIE, path="/console")
    api = httpx.get(f"{ctl.url}/v1/jobs", cookies={COOKIE: session})
    assert api.status_code == 401  # the API reads bearer headers only: a cookie cannot ride a cross-site request


# ---- methods and framing (held) ------------------------------------------------------------------------
def test_only_a_same_origin_post_with_the_token_changes_anything(ctl: ControllerProcess, tab: Tab) -> None:
    job = _pending(ctl)
    assert tab.sign_in(ctl.admin_token).status_code == 303
    csrf = tab.csrf()
    url = f"/console/jobs/{job}/approve"
    for method in ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"):
        r = tab.http.request(method, url, params={"csrf": csrf, "_method": "POST"},
                             headers={"X-HTTP-Method-Override": "POST", **tab.same_origin()})
        assert r.status_code == 405, method
        assert "access-control-allow-origin" not in r.headers, method
    overridden = tab.http.post(url, params={"_method": "GET"}, data={"csrf": "x"},
                               headers={"X-HTTP-Method-Override": "GET", **tab.same_origin()})
    assert overridden.status_code == 403
    as_json = tab.http.post(url, json={"csrf": csrf}, headers=tab.same_origin())
    assert as_json.status_code == 415
    assert _status(ctl, job) == "pending_approval"
    ok = tab.http.post(url, data={"csrf": csrf}, headers=tab.same_origin())
    assert ok.status_code == 303 and _status(ctl, job) == "queued"


def test_error_pages_cannot_be_framed_either(ctl: ControllerProcess, tab: Tab) -> None:
    assert tab.sign_in(ctl.admin_token).status_code == 303
    responses = {
        "404 route": tab.http.get("/console/nope"),
        "405": tab.http.delete("/console/jobs"),
        "415": tab.http.post("/console/logout", content=b"{}", headers={"content-type": "application/json"}),
        "413": tab.http.post("/console/logout", content=b"a=" + b"b" * 9000,
                             headers={"content-type": "application/x-www-form-urlencoded"}),
        "bad job id": tab.http.get("/console/jobs/" + "x" * 300),
        "traversal": tab.http.get("/console/static/..%2F..%2Fapp.py"),
    }
    for name, r in responses.items():
        assert r.status_code >= 400, name
        assert r.headers["x-frame-options"] == "DENY", name
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], name
        assert r.headers["x-content-type-options"] == "nosniff", name


# ---- stored XSS through the new fields (held) ------------------------------------------------------------
def test_worker_stage_from_report_and_claim_and_render_errors_are_escaped(ctl: ControllerProcess, tab: Tab) -> None:
    """Two sources new in 9c301c3: the `stage` query of report-and-claim and a worker's render error text."""
    with ctl.admin() as a:
        first = a.post("/v1/jobs", json={"code": "x = 1\n", "labels": ["w2-xss"],
                                         "render": {"width": 32, "height": 32}}).json()["id"]
        second = a.post("/v1/jobs", json={"code": "y = 2\n", "labels": ["w2-xss"]}).json()["id"]
    w = HttpWorker(ctl, ctl.mint_token("worker"), "w2-xss", labels=["w2-xss"])
    try:
        claim = w.claim()
        while claim is not None and claim["job_id"] != first:  # unlabelled jobs of earlier tests come first
            assert w.report(claim).status_code == 200
            claim = w.claim()
        assert claim is not None
        body = {"status": "succeeded", "worker_id": "w2-xss", "claim_id": claim["claim_id"],
                "render": {"ok": False, "error": {"code": "RenderFailed", "message": XSS, "hint": XSS}}}
        r = w.client.post(f"/v1/jobs/{first}/result", params={"next": "true", "label": "w2-xss", "stage": XSS},
                          json=body)
        assert r.status_code == 200 and r.json()["next"]["job_id"] == second
        assert w.report(r.json()["next"]).status_code == 200
    finally:
        w.close()
    assert tab.sign_in(ctl.admin_token).status_code == 303
    escaped = str(markupsafe.escape(XSS))
    for path in ("/console/workers", f"/console/jobs/{first}", "/console/jobs"):
        page = tab.http.get(path).text
        assert "<img src=x" not in page and "<script>alert" not in page, path
    assert escaped in tab.http.get("/console/workers").text  # the stage is shown, as text
    assert escaped in tab.http.get(f"/console/jobs/{first}").text  # the picture's refusal reason, as text


# ---- stream exhaustion (FIXED) ---------------------------------------------------------------------------
def test_signing_in_again_buys_no_more_live_streams(ctl: ControllerProcess) -> None:
    """Was: /console/events allowed 6 streams per *session*, and a credential may sign in as often as the
    sign-in rate allows, so one jobs:read token could hold any number of long-lived connections."""
    token = ctl.mint_token("jobs:read", sub="w2-stream-hog")
    tabs = [Tab(ctl) for _ in range(3)]
    held: list[httpx.Response] = []
    try:
        for t in tabs:
            assert t.sign_in(token).status_code == 303
        for i in range(6):  # the per-credential allowance, spread over the sessions
            r = tabs[i % 3].http.send(tabs[i % 3].http.build_request("GET", "/console/events"), stream=True)
            held.append(r)
            assert r.status_code == 200, i
        extra = tabs[2].http.send(tabs[2].http.build_request("GET", "/console/events"), stream=True)
        held.append(extra)
        assert extra.status_code == 429  # a seventh stream from a third session is refused
        for r in held:
            r.close()
        held.clear()
        deadline = time.monotonic() + 20  # closed streams give their slots back
        while True:
            again = tabs[0].http.send(tabs[0].http.build_request("GET", "/console/events"), stream=True)
            again.close()
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert again.status_code == 200
    finally:
        for r in held:
            r.close()
        for t in tabs:
            t.close()
