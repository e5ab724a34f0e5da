"""Networks over real HTTP: the global allow-list, per-credential CIDRs, X-Forwarded-For trust, header floods."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from harness import KITGATE, ControllerProcess, clean_env

from .helpers import assert_401, assert_envelope, audit_for, audit_rows, one_audit

TRIVIAL = {"code": "x = 1\n", "labels": ["no-worker-has-this"]}
ALLOW_10 = {"KITGATE_ALLOW_CIDRS": '["10.0.0.0/8"]'}
PROXY = {"KITGATE_TRUSTED_PROXIES": '["127.0.0.1/32"]'}


@pytest.fixture(scope="module")
def allow_only(controller_factory) -> ControllerProcess:
    return controller_factory(ALLOW_10, name="allowlist")


@pytest.fixture(scope="module")
def behind_proxy(controller_factory) -> ControllerProcess:
    return controller_factory({**ALLOW_10, **PROXY}, name="proxied")


def test_global_allow_list_refuses_everyone_elsewhere(allow_only: ControllerProcess) -> None:
    with allow_only.admin() as admin:
        r = admin.get("/v1/jobs")
        err = assert_envelope(r, 403, "forbidden")
        assert err["message"] == "requests from this network are not allowed"
        record = one_audit(allow_only, r, "auth.denied_network")
        assert record["ip"] == "127.0.0.1" and record["data"]["reason"] == "not_in_allow_cidrs"
        # a client cannot talk its way in: X-Forwarded-For from an untrusted peer is ignored
        spoofed = admin.get("/v1/jobs", headers={"X-Forwarded-For": "10.1.2.3"})
        assert_envelope(spoofed, 403, "forbidden")
        assert one_audit(allow_only, spoofed, "auth.denied_network")["ip"] == "127.0.0.1"
        # refused before the credential is even looked at: a bad token gets the same 403
        bad = admin.get("/v1/jobs", headers={"Authorization": "Bearer nope"})
        assert_envelope(bad, 403, "forbidden")
    assert httpx.get(f"{allow_only.url}/healthz").status_code == 200  # probes stay open


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(behind_proxy: ControllerProcess) -> None:
    with behind_proxy.admin() as admin:
        assert_envelope(admin.get("/v1/jobs"), 403, "forbidden")  # the proxy itself is not a client network
        ok = admin.post("/v1/jobs", json=TRIVIAL, headers={"X-Forwarded-For": "10.1.2.3"})
        assert ok.status_code == 202, ok.text
        submitted = one_audit(behind_proxy, ok, "job_submitted")
        assert submitted["ip"] == "10.1.2.3"  # the audit trail names the real client, not the proxy
        # the client's own (spoofable) entries are left of the proxy's; only the hop the proxy saw counts
        appended = admin.get("/v1/jobs", headers={"X-Forwarded-For": "203.0.113.9, 10.1.2.3"})
        assert appended.status_code == 200
        spoofed = admin.get("/v1/jobs", headers={"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})
        assert_envelope(spoofed, 403, "forbidden")
        assert one_audit(behind_proxy, spoofed, "auth.denied_network")["ip"] == "203.0.113.9"
        garbage = admin.get("/v1/jobs", headers={"X-Forwarded-For": "10.1.2.3, not-an-address"})
        assert_envelope(garbage, 403, "forbidden")  # a garbled header is not believed at all
        assert one_audit(behind_proxy, garbage, "auth.denied_network")["ip"] == "127.0.0.1"
        huge = admin.get("/v1/jobs", headers={"X-Forwarded-For": ", ".join(["10.0.0.1"] * 400)})
        assert huge.status_code == 200  # long chains are cut to the last hops, not a 500


def test_per_credential_networks(controller: ControllerProcess, behind_proxy: ControllerProcess) -> None:
    elsewhere = controller.mint_token("jobs:read", cidrs=["10.9.0.0/16"], sub="cidr-limited")
    here = controller.mint_token("jobs:read", cidrs=["127.0.0.0/8"])
    v6_only = controller.mint_token("jobs:read", cidrs=["::1/128"])
    with controller.client(elsewhere) as c:
        r = c.get("/v1/jobs")
        err = assert_envelope(r, 403, "forbidden")
        assert err["message"] == "this credential may not be used from this network"
        record = one_audit(controller, r, "auth.denied_network")
        assert record["actor"] == "cidr-limited" and record["data"]["reason"] == "not_in_token_cidrs"
        assert_envelope(c.get("/v1/jobs", headers={"X-Forwarded-For": "10.9.1.1"}), 403, "forbidden")
    with controller.client(here) as c:
        assert c.get("/v1/jobs").status_code == 200
    with controller.client(v6_only) as c:
        assert_envelope(c.get("/v1/jobs"), 403, "forbidden")
    proxied = behind_proxy.mint_token("jobs:read", cidrs=["10.9.0.0/16"])
    with behind_proxy.client(proxied) as c:
        assert c.get("/v1/jobs", headers={"X-Forwarded-For": "10.9.1.1"}).status_code == 200
        assert_envelope(c.get("/v1/jobs", headers={"X-Forwarded-For": "10.8.1.1"}), 403, "forbidden")


# ---- header floods -------------------------------------------------------------------------------

def raw_request(port: int, head: bytes, timeout: float = 20.0) -> bytes:
    """Send one request byte-for-byte and read until the server closes: no client-side limits in the way."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):  # the server may cut us off mid-send; what it answered is what counts
            s.sendall(head)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return out


def request_head(extra: bytes, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    return b"GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + extra + b"Connection: close\r\n\r\n"


def test_many_headers_get_431(controller: ControllerProcess, tokens: dict[str, str]) -> None:
    many = {f"x-flood-{i}": "v" for i in range(150)}
    with controller.client(tokens["operator"]) as c:
        r = c.get("/v1/jobs", headers=many)
        err = assert_envelope(r, 431, "headers_too_large")
        assert "at most 100" in err["message"]
        record = one_audit(controller, r, "request.refused")
        assert record["ip"] == "127.0.0.1" and "headers" in record["data"]["reason"]
        fine = c.get("/v1/jobs", headers={f"x-ok-{i}": "v" for i in range(80)})
        assert fine.status_code == 200


def test_one_huge_header_gets_431(controller: ControllerProcess, tokens: dict[str, str]) -> None:
    with controller.client(tokens["operator"]) as c:
        r = c.get("/v1/jobs", headers={"x-big": "a" * 40_000})
        err = assert_envelope(r, 431, "headers_too_large")
        assert "at most 16384" in err["message"]
        assert audit_for(controller, r)[0]["event"] == "request.refused"


def test_oversized_credentials_are_plain_401s(controller: ControllerProcess) -> None:
    with controller.client() as anon:
        r = anon.get("/v1/jobs", headers={"Authorization": "Bearer " + "a" * 10_000})
        assert_401(r)
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "malformed"
        r = anon.get("/v1/jobs", headers={"X-API-Key": "kg_" + "a" * 10_000})
        assert_401(r)


@pytest.mark.parametrize("size", [1_000_000, 8_000_000])
def test_header_blocks_far_beyond_the_limit_never_500_or_hang(controller: ControllerProcess, size: int) -> None:
    """Depending on how the bytes arrive, the parser guard drops the request (a 400 envelope or a reset) or
    it reaches our 431; never a 500, never a hang, and the controller keeps serving."""
    t0 = time.monotonic()
    out = raw_request(controller.port or 0, request_head(b"X-Big: " + b"a" * size + b"\r\n"))
    assert time.monotonic() - t0 < 15
    status = out.split(b" ", 2)[1] if out.startswith(b"HTTP/1.1 ") else None
    assert status in (None, b"400", b"431"), out[:200]
    if status is not None:
        assert b'"code": "headers_too_large"' in out
    assert httpx.get(f"{controller.url}/healthz").status_code == 200


@pytest.mark.parametrize("head", [
    b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",  # a control character in a value
    b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",  # a space in a header name
    b"NOT A REQUEST LINE\r\n\r\n",
])
def test_what_the_parser_cannot_read_gets_the_error_envelope(controller: ControllerProcess, head: bytes) -> None:
    out = raw_request(controller.port or 0, head)
    status_line, _, rest = out.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", out[:300]
    assert b"content-type: application/json" in headers and b"connection: close" in headers
    err = json.loads(body)["error"]
    assert err["code"] == "bad_request" and "not valid HTTP/1.1" in err["message"]
    assert httpx.get(f"{controller.url}/healthz").status_code == 200


def test_a_head_over_the_parser_cap_gets_the_envelope(controller: ControllerProcess) -> None:
    """A head over the cap is refused while it arrives (before its end), in the envelope. Just over the cap,
    so the server has read every byte when it closes: a close with unread bytes would be a reset."""
    out = raw_request(controller.port or 0, b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000)
    status_line, _, rest = out.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", out[:300]
    err = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert err["code"] == "headers_too_large" and err["details"] == {"max_head_bytes": 65536}


def test_header_floods_from_one_address_cannot_flood_the_audit_trail(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_RATE_ANON": "5/minute"}, name="floodaudit")
    many = {f"x-flood-{i}": "v" for i in range(150)}
    with ctl.client() as anon:
        statuses = [anon.get("/v1/jobs", headers=many).status_code for _ in range(20)]
    assert set(statuses) == {431}
    assert len(audit_rows(ctl, event="request.refused")) == 5  # the anon budget, then silence


def _closed_after(port: int, drip: bytes | None, limit_s: float,
                  start: bytes = b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\n") -> float | None:
    """Seconds until the server closes a connection that sends `start`, then drips `drip` every 0.2 s
    (None: never, within limit_s). With `drip` None nothing at all is sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
        t0 = time.monotonic()
        if drip is not None:
            s.sendall(start)
        while time.monotonic() - t0 < limit_s:
            try:
                if s.recv(1024) == b"":
                    return time.monotonic() - t0
            except TimeoutError:
                pass
            except ConnectionResetError:
                return time.monotonic() - t0
            if drip is not None:
                try:
                    s.sendall(drip)
                except OSError:
                    return time.monotonic() - t0
    return None


def test_slow_or_silent_request_heads_are_cut_off(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_HEADER_TIMEOUT_S": "1"}, name="slowloris")
    dripping = _closed_after(ctl.port or 0, b"X-Drip: a\r\n", limit_s=20)
    assert dripping is not None and dripping < 15, dripping  # closed at ~1 s, not held for ever
    silent = _closed_after(ctl.port or 0, None, limit_s=20)
    assert silent is not None and silent < 15, silent
    with ctl.client(ctl.mint_token("worker")) as w:  # a long poll is not a slow head: it is left alone
        r = w.post("/v1/workers/claim", params={"wait_s": 2.5}, json={"worker_id": "w-slow"})
        assert r.status_code == 204
        assert w.get("/v1/keys").status_code == 200  # and the keep-alive connection still works


def test_slow_request_bodies_are_cut_off(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_BODY_TIMEOUT_S": "1"}, name="slowbody")
    token = ctl.mint_token("jobs:submit", "jobs:read")
    head = (f"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
    dripping = _closed_after(ctl.port or 0, b"x", limit_s=20, start=head)
    assert dripping is not None and dripping < 15, dripping  # closed at ~1 s, not held for 100000 * 0.2 s
    with ctl.client(token) as op:  # a whole body sent at once is untouched, and so is a long wait after it
        assert op.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200
    with ctl.client(ctl.mint_token("worker")) as w:
        r = w.post("/v1/workers/claim", params={"wait_s": 2.5}, json={"worker_id": "w-slow"})
        assert r.status_code == 204
    assert "Traceback" not in ctl.logs()


def _hold_then_one_more(ctl: ControllerProcess, hold: int) -> bytes | None:
    """Open `hold` idle connections, then one more: what the extra one is answered before it sends
    anything (None: nothing, it was left open). Checks that the held ones were sent nothing."""
    held = [socket.create_connection(("127.0.0.1", ctl.port or 0), timeout=5) for _ in range(hold)]
    try:
        time.sleep(0.5)  # the server has accepted them all
        answer: bytes | None = b""
        with socket.create_connection(("127.0.0.1", ctl.port or 0), timeout=2) as extra:
            try:
                while chunk := extra.recv(65536):
                    answer += chunk
            except TimeoutError:
                answer = answer or None
        for s in held:  # the held ones were left alone: nothing was sent to them
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
        return answer
    finally:
        for s in held:
            s.close()


def _refusal(raw: bytes | None) -> dict:
    assert raw is not None, "the extra connection was accepted"
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in head.lower(), head
    err = json.loads(body)["error"]
    assert err["code"] == "too_many_connections", err
    return err


def _serves_again(ctl: ControllerProcess) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # freed slots are usable again
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{ctl.url}/healthz", timeout=5).status_code == 200:
                return True
        time.sleep(0.05)
    return False


def test_connections_beyond_the_cap_get_a_503_envelope(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_MAX_CONNECTIONS": "8", "KITGATE_HEADER_TIMEOUT_S": "60"}, name="conncap")
    assert _refusal(_hold_then_one_more(ctl, 8))["details"] == {"max_connections": 8}
    assert _serves_again(ctl)


def test_one_address_cannot_take_every_connection(controller_factory) -> None:
    settings = {"KITGATE_MAX_CONNECTIONS_PER_IP": "4", "KITGATE_HEADER_TIMEOUT_S": "60"}
    ctl = controller_factory(settings, name="perip")
    err = _refusal(_hold_then_one_more(ctl, 4))
    assert err["details"] == {"max_connections_per_ip": 4} and "this address" in err["message"]
    assert _serves_again(ctl)
    # Behind a trusted proxy every client shares the proxy's address: the per-address cap is not applied.
    proxied = controller_factory({**settings, **PROXY}, name="perip-proxy")
    assert _hold_then_one_more(proxied, 6) is None


def test_the_connection_cap_must_fit_the_open_file_limit(tmp_path) -> None:
    """Past RLIMIT_NOFILE the server could not accept (or open SQLite): it raises the soft limit to make
    room, and refuses to start with one clear line when even the hard limit is too low."""
    script = "ulimit -Sn 100 && ulimit -Hn 300 && exec \"$0\" \"$@\""
    too_many = subprocess.run(
        ["sh", "-c", script, KITGATE, "serve", "--port", "0", "--data-dir", str(tmp_path / "d")],
        env=clean_env({"KITGATE_MAX_CONNECTIONS": "1000"}), capture_output=True, text=True, timeout=60)
    lines = too_many.stderr.strip().splitlines()
    assert too_many.returncode == 2 and len(lines) == 1, too_many.stderr
    assert "KITGATE_MAX_CONNECTIONS=1000" in lines[0] and "hard limit (ulimit -Hn) is 300" in lines[0]
    probe = ("import resource; from kitgate.controller.server import check_open_files; "
             "from kitgate.controller.settings import Settings; "
             "check_open_files(Settings(max_connections=200)); print(*resource.getrlimit(resource.RLIMIT_NOFILE))")
    raised = subprocess.run(["sh", "-c", script, sys.executable, "-c", probe],
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert raised.returncode == 0 and raised.stdout.split() == ["264", "300"], raised.stderr


def test_big_bodies_are_not_mistaken_for_big_heads(controller: ControllerProcess, tokens: dict[str, str]) -> None:
    """The head cap counts only bytes before the end of the headers: a 900 KB body in the same reads is fine."""
    code = "x = 1\n" + "# padding\n" * 90_000
    with controller.client(tokens["operator"]) as op:
        r = op.post("/v1/validate", json={"code": code})
        err = assert_envelope(r, 413, "code_too_large")  # the app read it all and applied the policy's limit
        assert err["details"]["size"] == len(code)


def test_loopback_metrics_are_not_opened_by_a_local_proxy(behind_proxy: ControllerProcess) -> None:
    """Behind a reverse proxy on 127.0.0.1, "loopback" must mean the real client, not the proxy."""
    assert httpx.get(f"{behind_proxy.url}/metrics").status_code == 200  # really local
    r = httpx.get(f"{behind_proxy.url}/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert_401(r)
    with behind_proxy.admin() as admin:
        assert admin.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
