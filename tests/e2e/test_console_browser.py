"""The operator console in a real browser: Debian's chromium (Playwright) against a real controller and a
real headless worker.

What a person would do, step by step: sign in with a pasted token, watch a job's output arrive while it
runs, approve a `trusted` job and see it run, reject one with a reason, and find that a read-only token
has no approve button and that a forged approve POST is refused. Stored XSS is tried through code,
output, an error message, a worker's stage and a token's subject (labels are refused at the API): no
dialog opens, no injected element exists, and the payload is on the page as text.

Every page is saved as a screenshot under test-artifacts/console/ (git-ignored) for a person to look at.
One browser for the module; each role gets its own browser context (its own cookie jar).

Skipped only when no chromium is installed and CI is not set; under CI=true a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import FAST_ENV, ControllerProcess, HttpWorker
from worker_harness import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "console"
XSS = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
TERMINAL = {"succeeded", "failed", "timed_out", "rejected", "cancelled", "lost"}
# prints a line, computes ~1 s, prints the next: several live chunks arrive before the job ends
TICKING_JOB = (
    "for tick in range(4):\n"
    "    print('tick', tick)\n"
    "    x = 0\n"
    "    for k in range(1_200_000):\n"
    "        x += k\n"
    "result = {'ticks': 4}\n"
)
TRUSTED_JOB = ("from pxr import UsdGeom\n"
               "UsdGeom.Xform.Define(stage, '/World/Approved')\n"
               "print('approved job ran')\n")


def _chromium() -> str | None:
    explicit = os.environ.get("KITGATE_TEST_CHROMIUM")
    if explicit:
        return explicit
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


CHROMIUM = _chromium()
IN_CI = os.environ.get("CI", "").lower() == "true"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not IN_CI,
    reason="no chromium executable: `apt-get install -y chromium` (make test installs it)",
)


# ---- fixtures: one controller, one worker, one browser for the module --------------------------------
@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    with ControllerProcess(tmp_path_factory.mktemp("console"), env=FAST_ENV) as c:
        yield c


@pytest.fixture(scope="module")
def worker(ctl: ControllerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    folder = tmp_path_factory.mktemp("console-worker")
    token = folder / "worker.token"
    token.write_text(ctl.mint_token("worker"))
    token.chmod(0o600)
    w = WorkerProcess(ctl.url, token, folder / "scene.usda", labels=["console"], worker_id="console-worker")
    try:
        deadline = time.monotonic() + 30
        with ctl.admin() as admin:
            while time.monotonic() < deadline:
                workers = admin.get("/v1/workers").json()["workers"]
                if any(x["id"] == "console-worker" and x["presence"] == "connected" for x in workers):
                    break
                time.sleep(0.1)
        yield w
    finally:
        w.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.fail("CI=true and no chromium: `apt-get install -y chromium` (.ci/run and `make browser` do)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


class Tab:
    """A browser context (own cookies) with one page that records dialogs, page errors and CSP reports."""

    def __init__(self, browser: object, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="domcontentloaded")

    def sign_in(self, token: str) -> None:
        self.goto("/console/login")
        self.page.fill("#token", token)
        self.page.click("#sign-in")
        self.page.wait_for_url(re.compile(r".*/console/jobs$"))

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def admin_tab(browser: object, ctl: ControllerProcess) -> Iterator[Tab]:
    tab = Tab(browser, ctl.url)
    tab.sign_in(ctl.admin_token)
    yield tab
    tab.close()


def _submit(client: httpx.Client, code: str, **extra: object) -> str:
    r = client.post("/v1/jobs", json={"code": code, **extra})
    assert r.status_code in (200, 202), r.text
    return r.json()["id"]


def _wait(client: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", params={"wait_s": 5}).json()
        if job["status"] in TERMINAL:
            return job
    raise AssertionError(f"{job_id} did not finish: {job}")


def _badge(tab: Tab, status: str, timeout_ms: int = 60_000) -> None:
    """The job page shows `status`; for a final status, the page the server rendered after the job ended
    (the live page reloads itself then), so the result's sections are there."""
    tab.page.wait_for_function(
        "([s, final]) => { const b = document.getElementById('job-status');"
        " const o = document.getElementById('output');"
        " return b && b.textContent.trim() === s && (!final || (o && o.dataset.live === '0')); }",
        arg=[status, status in TERMINAL], timeout=timeout_ms)


# ---- tests -------------------------------------------------------------------------------------------
def test_sign_in_refuses_a_bad_token_then_accepts_the_admin_token(browser: object, ctl: ControllerProcess) -> None:
    tab = Tab(browser, ctl.url)
    try:
        tab.goto("/console/jobs")
        assert tab.page.url.endswith("/console/login")  # not signed in: the sign-in form
        tab.page.fill("#token", "not-a-token")
        tab.page.click("#sign-in")
        assert "not accepted" in tab.text("#login-error")
        tab.shot("01-sign-in-refused")
        tab.sign_in(ctl.admin_token)
        assert tab.text("#whoami") == "admin"
        cookies = {c["name"]: c for c in tab.context.cookies()}
        session = cookies["kitgate_console"]
        assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/console"
        assert ctl.admin_token not in session["value"]  # an opaque id, never the token
        assert tab.page.evaluate("() => window.localStorage.length + window.sessionStorage.length") == 0
        tab.page.click("#sign-out")
        tab.page.wait_for_url(re.compile(r".*/console/login$"))
        tab.goto("/console/jobs")
        assert tab.page.url.endswith("/console/login")  # the session ended on the server
    finally:
        tab.close()
    assert tab.dialogs == []


def test_job_list_updates_live_and_output_streams_while_the_job_runs(
        admin_tab: Tab, ctl: ControllerProcess, worker: WorkerProcess) -> None:
    tab = admin_tab
    tab.goto("/console/jobs")
    tab.page.wait_for_selector("#live-state.on")
    with ctl.admin() as admin:
        job_id = _submit(admin, TICKING_JOB, labels=["console"], policy="scene-edit")
        # the row appears without a reload (the `created` event)
        tab.page.wait_for_selector(f"tr[data-job-id='{job_id}']", timeout=20_000)
        tab.goto(f"/console/jobs/{job_id}")
        tab.page.wait_for_selector("#live-state.on", timeout=20_000)
        # the first line is on the page while the job is still running (live output, not the final result)
        status_then = tab.page.wait_for_function(
            "() => { const o = document.getElementById('output'); const b = document.getElementById('job-status');"
            " return o && o.textContent.includes('tick 0') ? b.textContent.trim() : null; }",
            timeout=60_000,
        ).json_value()
        assert status_then in {"queued", "running"}, status_then
        assert _wait(admin, job_id)["status"] == "succeeded"
    _badge(tab, "succeeded")  # the page reloads itself with the result
    assert "tick 3" in tab.text("#output")
    assert '"ticks": 4' in tab.text("#value")
    tab.shot("03-job-succeeded")
    tab.goto("/console/jobs")
    assert tab.page.inner_text(f"tr[data-job-id='{job_id}'] [data-role=status]") == "succeeded"
    tab.shot("02-jobs")
    assert tab.dialogs == [] and tab.errors == [], tab.errors


def test_approve_a_trusted_job_and_see_it_run(admin_tab: Tab, ctl: ControllerProcess,
                                              worker: WorkerProcess) -> None:
    requester = ctl.mint_token("jobs:submit", "jobs:read", sub="agent-approve", policies=["trusted", "scene-edit"])
    with ctl.client(requester) as agent:
        job_id = _submit(agent, TRUSTED_JOB, labels=["console"], policy="trusted")
        assert agent.get(f"/v1/jobs/{job_id}").json()["status"] == "pending_approval"
        tab = admin_tab
        tab.goto("/console/approvals")
        card = tab.page.locator(f"section.approval[data-job-id='{job_id}']")
        assert card.locator(".requester").inner_text() == "agent-approve"
        assert "UsdGeom.Xform.Define" in card.locator("table.src").inner_text()
        assert "in-process" in card.locator("ul.diff").inner_text()  # what trusted allows beyond scene-edit
        tab.shot("04-approvals")
        card.locator("button[data-action=approve]").click()
        tab.page.wait_for_url(re.compile(rf".*/console/jobs/{job_id}$"))
        _badge(tab, "succeeded")
        assert "approved job ran" in tab.text("#output")
        assert "/World/Approved" in tab.text("#changed")
        audit = tab.text("#job-audit")
        assert "job_submitted" in audit and "job_approved" in audit
        tab.shot("05-approved-job")
        assert _wait(agent, job_id)["status"] == "succeeded"


def test_reject_a_trusted_job_with_a_reason(admin_tab: Tab, ctl: ControllerProcess) -> None:
    requester = ctl.mint_token("jobs:submit", "jobs:read", sub="agent-reject", policies=["trusted"])
    with ctl.client(requester) as agent:
        job_id = _submit(agent, TRUSTED_JOB, labels=["console"], policy="trusted")
        tab = admin_tab
        tab.goto(f"/console/jobs/{job_id}")
        tab.page.fill("#decide input[name=reason]", "not during the review meeting")
        tab.page.click("#reject")
        tab.page.wait_for_url(re.compile(rf".*/console/jobs/{job_id}$"))
        _badge(tab, "rejected")
        assert "not during the review meeting" in tab.text("#job-error")
        assert "job_rejected" in tab.text("#job-audit")
        tab.shot("06-rejected-job")
        job = agent.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "rejected"
        assert job["result"]["error"] == {"type": "rejected_by_operator", "message": "not during the review meeting",
                                          "line": None}


def test_a_read_only_token_cannot_approve(browser: object, ctl: ControllerProcess) -> None:
    operator = ctl.mint_token("jobs:submit", "jobs:read", sub="operator-ro", policies=["trusted"])
    with ctl.client(operator) as op:
        job_id = _submit(op, TRUSTED_JOB, labels=["console"], policy="trusted")
    tab = Tab(browser, ctl.url)
    try:
        tab.sign_in(operator)  # jobs:read (and submit), no admin
        nav = tab.text("nav")
        assert "Approvals" not in nav and "Audit" not in nav and "Workers" not in nav
        tab.goto(f"/console/jobs/{job_id}")
        assert tab.text("#job-status") == "pending_approval"
        assert tab.page.locator("#approve").count() == 0 and tab.page.locator("form[action$='/approve']").count() == 0
        tab.shot("07-read-only-job")
        tab.goto("/console/approvals")
        assert "lacks the scope admin" in tab.text("#refusal")
        # a forged approve: the session's own CSRF token, the right origin, still refused on the server
        tab.goto("/console/jobs")
        csrf = tab.page.get_attribute("form[action='/console/logout'] input[name=csrf]", "value")
        forged = tab.page.request.post(f"{ctl.url}/console/jobs/{job_id}/approve", form={"csrf": csrf},
                                       headers={"Origin": ctl.url}, max_redirects=0)
        assert forged.status == 403, forged.text()
    finally:
        tab.close()
    with ctl.admin() as admin:
        assert admin.get(f"/v1/jobs/{job_id}").json()["status"] == "pending_approval"
        admin.post(f"/v1/jobs/{job_id}/reject", json={"reason": "test cleanup"})

    reader = ctl.mint_token("jobs:read", sub="reader-only")
    tab = Tab(browser, ctl.url)
    try:
        tab.sign_in(reader)
        assert tab.page.locator("tbody#jobs tr[data-job-id]").count() == 0  # nobody else's jobs
        tab.goto(f"/console/jobs/{job_id}")
        assert "not yours to see" in tab.text("#refusal")
    finally:
        tab.close()


def test_stored_xss_is_shown_as_text(browser: object, ctl: ControllerProcess, worker: WorkerProcess) -> None:
    code = (f"# {XSS}\n"
            f"print({XSS!r})\n"
            f"raise ValueError({XSS!r})\n")
    owner = ctl.mint_token("jobs:submit", "jobs:read", sub="xss-owner" + XSS)  # a token subject is free text
    with ctl.client(owner) as agent:
        refused = agent.post("/v1/jobs", json={"code": "x = 1\n", "labels": [XSS]})
        assert refused.status_code == 422  # labels are a closed alphabet: the payload never gets stored
        job_id = _submit(agent, code, labels=["console"])
        job = _wait(agent, job_id)
    assert job["status"] == "failed" and XSS in job["result"]["error"]["message"], job
    # a worker whose stage string carries the payload (the stage is free text up to 1 KiB)
    fake = HttpWorker(ctl, ctl.mint_token("worker"), worker_id="xss-worker", labels=["xss"])
    try:
        assert fake.client.post("/v1/workers/claim", json={"worker_id": "xss-worker", "labels": ["xss"],
                                                          "stage": XSS}).status_code == 204
    finally:
        fake.close()
    tab = Tab(browser, ctl.url)
    try:
        tab.sign_in(ctl.admin_token)
        for path in (f"/console/jobs/{job_id}", "/console/jobs", "/console/workers", "/console/audit"):
            tab.goto(path)
            tab.page.wait_for_load_state("load")
            assert tab.page.locator("img[src=x], script:not([src])").count() == 0, path
            assert tab.page.evaluate("() => window.__xss === undefined"), path
        tab.goto(f"/console/jobs/{job_id}")
        assert XSS in tab.text("table.src")  # code, as text
        assert XSS in tab.text("#output")  # printed output, as text
        assert XSS in tab.text("#job-error")  # the error message, as text
        assert "xss-owner" + XSS in tab.text("main")  # the owner (a token subject), as text
        tab.shot("08-xss-job")
        tab.goto("/console/workers")
        assert XSS in tab.text("tr[data-worker-id='xss-worker']")
        assert "console-worker" in tab.text("#workers")
        assert "connected" in tab.text("tr[data-worker-id='console-worker']")
        tab.shot("09-workers")
    finally:
        tab.close()
    assert tab.dialogs == [], tab.dialogs


def test_the_job_page_shows_the_picture_the_job_asked_for(admin_tab: Tab, ctl: ControllerProcess,
                                                          worker: WorkerProcess) -> None:
    code = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/Pictured')\n"
    with ctl.admin() as admin:
        job_id = _submit(admin, code, labels=["console"], render={"width": 320, "height": 240})
        assert _wait(admin, job_id)["status"] == "succeeded"
    tab = admin_tab
    tab.goto(f"/console/jobs/{job_id}")
    # fetched from /console/jobs/{id}/image with the session cookie, allowed by img-src 'self'
    width = tab.page.wait_for_function(
        "() => { const i = document.getElementById('job-image'); return i && i.complete && i.naturalWidth; }",
        timeout=20_000).json_value()
    assert width == 320
    tab.shot("13-job-picture")
    assert tab.errors == [], tab.errors


def test_policies_and_audit_pages(admin_tab: Tab, ctl: ControllerProcess) -> None:
    tab = admin_tab
    tab.goto("/console/policies")
    for name in ("readonly", "scene-edit", "trusted"):
        assert tab.page.locator(f"#p-{name}").count() == 1
    assert "sha256:" in tab.text("#p-trusted")
    assert "in-process" in tab.text("#p-trusted ul.diff")
    tab.shot("10-policies")
    tab.goto("/console/audit")
    assert tab.text("#chain-state").startswith("Chain verified")
    assert "console.signed_in" in tab.text("#audit")
    tab.shot("11-audit")
    # the list with every job the module made, then filtered by policy and by owner
    tab.goto("/console/jobs")
    assert tab.page.locator("tbody#jobs tr[data-job-id]").count() >= 5
    tab.shot("12-jobs-all")
    tab.page.select_option("select[name=policy]", "trusted")
    tab.page.click(".filters button")
    tab.page.wait_for_url(re.compile(r".*policy=trusted.*"))
    policies = tab.page.eval_on_selector_all("tbody#jobs tr[data-job-id] td:nth-child(3)",
                                             "tds => tds.map(td => td.textContent.trim())")
    assert policies and set(policies) == {"trusted"}, policies
    tab.goto("/console/jobs?owner=agent-approve")
    owners = tab.page.eval_on_selector_all("tbody#jobs tr[data-job-id] td:nth-child(4)",
                                           "tds => tds.map(td => td.textContent.trim())")
    assert owners == ["agent-approve"], owners
    assert tab.errors == [], tab.errors
