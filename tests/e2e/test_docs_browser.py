"""/docs and /redoc render in a real headless browser with no network beyond loopback.

FastAPI's default pages pull Swagger UI and ReDoc from a CDN, so offline they are blank. The controller
serves them from the installed fastapi-offline package instead; this test proves it the only way that
counts: Debian's chromium (apt, driven by Playwright) loads the pages from a real controller while every
request to a host other than 127.0.0.1 is refused and recorded. It checks that every operation of the
OpenAPI document is rendered, that the Authorize dialog offers the bearer and X-API-Key schemes, and
that the page shows the package version.

Skipped only when no chromium executable is installed (`apt-get install -y chromium`; .ci/run and
`make test` install it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from importlib import metadata
from urllib.parse import urlsplit

import httpx
import pytest
from harness import ControllerProcess

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _chromium() -> str | None:
    explicit = os.environ.get("KITGATE_TEST_CHROMIUM")
    if explicit:
        return explicit
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium executable: `apt-get install -y chromium` (make test installs it)"
)


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    with ControllerProcess(tmp_path_factory.mktemp("docs")) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where chromium refuses its own sandbox
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


class Offline:
    """A browser page whose every non-loopback request is aborted and recorded."""

    def __init__(self, browser: object) -> None:
        self.context = browser.new_context(service_workers="block")  # type: ignore[attr-defined]
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        # the controller's CSP stops the page's own remote references (ReDoc's logo) before they leave the
        # browser: those fail as ERR_BLOCKED_BY_CSP; any other failure is a bug
        self.page.on("requestfailed", lambda req: None if (req.failure or "") in {"csp", "net::ERR_BLOCKED_BY_CSP"}
                     else self.failed.append(f"{req.url}: {req.failure}"))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"} or parts.hostname in LOOPBACK:
            route.continue_()  # type: ignore[attr-defined]
            return
        self.outside.append(url)
        route.abort("internetdisconnected")  # type: ignore[attr-defined]

    def close(self) -> None:
        self.context.close()


def _operations(ctl: ControllerProcess) -> list[tuple[str, str]]:
    schema = httpx.get(f"{ctl.url}/openapi.json", timeout=30).json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


def test_swagger_ui_renders_every_operation_offline(ctl, browser) -> None:
    tab = Offline(browser)
    try:
        tab.page.goto(f"{ctl.url}/docs", wait_until="networkidle")
        tab.page.wait_for_selector(".opblock", timeout=30_000)
        rendered = tab.page.eval_on_selector_all(
            ".opblock",
            "els => els.map(e => [e.querySelector('.opblock-summary-method').textContent.trim(),"
            " e.querySelector('.opblock-summary-path').getAttribute('data-path')])",
        )
        assert set(map(tuple, rendered)) == set(_operations(ctl))  # (an operation with two tags shows twice)
        assert metadata.version("kitgate") in tab.page.inner_text(".info")

        tab.page.click("button.authorize")
        dialog = tab.page.wait_for_selector(".modal-ux", timeout=10_000).inner_text()
        assert "bearerAuth" in dialog and "apiKeyHeader" in dialog and "X-API-Key" in dialog
    finally:
        tab.close()
    assert tab.outside == [], f"the docs page tried to leave the machine: {tab.outside}"
    assert tab.failed == [] and tab.errors == []


def test_redoc_renders_offline(ctl, browser) -> None:
    tab = Offline(browser)
    try:
        tab.page.goto(f"{ctl.url}/redoc", wait_until="networkidle")
        tab.page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
        sections = tab.page.eval_on_selector_all(
            "[data-section-id^='operation/']", "els => els.map(e => e.getAttribute('data-section-id'))")
        rendered = {s.split("/", 1)[1] for s in sections}
        schema = httpx.get(f"{ctl.url}/openapi.json", timeout=30).json()
        assert rendered == {op["operationId"] for item in schema["paths"].values() for op in item.values()}
        assert "Submit a job" in tab.page.inner_text("body")
    finally:
        tab.close()
    assert tab.outside == [], f"the ReDoc page tried to leave the machine: {tab.outside}"
    assert tab.failed == [] and tab.errors == []
