"""What the service layer costs per request: auth + rate limit + envelope signing (target: under 1 ms).

    .venv/bin/python bench/auth.py [--n 2000] [--http 500]

In-process (no HTTP), on a real data dir and SQLite file:
  token verify        TokenStore.verify, first use of a token (PyJWT EdDSA decode + claims + SQLite row) and
                      again (signature result cached per token string; time claims and SQLite row every time)
  api key verify      ApiKeyStore.verify: SHA-256 + constant-time compare + the SQLite row lookup
  rate limit hit      RateLimits.hit on the memory:// moving window
  authenticate        SecurityLayer.authenticate: the whole dependency (client IP, credential, CIDR, rate, scope)
  sign envelope       SecurityLayer.sign_envelope: claims + Ed25519 JWS for one claimed job
  audit record        AuditLog.record: one hash-chained row + the head anchor (per job event / refusal)
Over HTTP (a real `kitgate serve` on loopback, one keep-alive client, sequential):
  GET /healthz (no auth) vs GET /v1/keys with a bearer token and with an API key; the difference is the
  per-request cost of the security layer as a client sees it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
KITGATE = str(BIN / "kitgate")
FAST = {k: "100000000/minute" for k in ("KITGATE_RATE_SUBMIT", "KITGATE_RATE_READ", "KITGATE_RATE_WORKER",
                                        "KITGATE_RATE_ANON")}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(200, n)):  # warm caches and the limiter's window
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def row(name: str, samples: list[float]) -> str:
    s = sorted(samples)
    p50, p90, p99 = (s[int(len(s) * q)] * 1e6 for q in (0.5, 0.9, 0.99))
    return f"| {name} | {p50:.0f} | {p90:.0f} | {p99:.0f} |"


def in_process(n: int, data_dir: Path) -> list[str]:
    os.environ.update(FAST)
    from starlette.requests import Request

    from kitgate.controller.db import Database
    from kitgate.controller.security import SecurityLayer
    from kitgate.controller.settings import Settings

    settings = Settings(data_dir=data_dir)
    db = Database(settings.db_path)
    security = SecurityLayer(settings, db)
    security.startup()
    assert security.tokens is not None and security.apikeys is not None
    token, _ = security.tokens.issue("bench", ["jobs:read", "worker"], ttl_s=3600)
    key, _ = security.apikeys.issue("bench-ci", ["jobs:read"])

    def request() -> Request:
        scope = {"type": "http", "method": "GET", "path": "/v1/jobs", "query_string": b"", "scheme": "http",
                 "server": ("127.0.0.1", 8750), "client": ("127.0.0.1", 40000), "state": {},
                 "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"127.0.0.1")]}
        return Request(scope)

    limits = {"timeout_s": 10, "memory_mb": 512}
    fresh = iter([security.tokens.issue(f"b{i}", ["jobs:read"], ttl_s=3600)[0] for i in range(n + 200)])
    rows = [
        row("token verify, first use (EdDSA + claims + SQLite)", timed(lambda: security.tokens.verify(next(fresh)), n)),
        row("token verify, seen before (SQLite lookup)", timed(lambda: security.tokens.verify(token), n)),
        row("api key verify (SHA-256 + SQLite lookup)", timed(lambda: security.apikeys.verify(key), n)),
        row("rate limit hit (memory, moving window)", timed(lambda: security.rates.hit("read", "bench"), n)),
        row("**authenticate** (whole dependency)",
            timed(lambda: security.authenticate(request(), ("jobs:read",), "read"), n)),
        row("**sign envelope** (Ed25519 JWS)", timed(lambda: security.sign_envelope(
            job_id="j_bench", code_sha256="0" * 64, policy="scene-edit", policy_digest="1" * 64, limits=limits,
            timeout_s=10.0, worker_id="w-bench", attempt=1), n)),
        row("audit record (chain row + head anchor)",
            timed(lambda: security.audit.record("bench", actor="bench", ip="127.0.0.1", request_id="r"), n)),
    ]
    db.close()
    return rows


def over_http(n: int, data_dir: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITGATE_")}
    env.update(FAST, KITGATE_LOG_LEVEL="warning")
    port_file = data_dir.parent / "port"
    proc = subprocess.Popen([KITGATE, "serve", "--port", "0", "--port-file", str(port_file), "--data-dir",
                             str(data_dir)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("controller did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        token = (data_dir / "admin.token").read_text().strip()
        key = subprocess.run([KITGATE, "apikey", "create", "--scope", "worker", "--data-dir", str(data_dir)],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        with httpx.Client(base_url=url, timeout=30) as c:
            def get(path: str, headers: dict[str, str] | None = None) -> Callable[[], object]:
                def call() -> object:
                    r = c.get(path, headers=headers)
                    assert r.status_code == 200, r.text
                    return r
                return call

            # interleave the three so load changes on the machine hit them alike
            samples: dict[str, list[float]] = {"health": [], "token": [], "apikey": []}
            calls = {"health": get("/healthz"), "token": get("/v1/keys", {"Authorization": f"Bearer {token}"}),
                     "apikey": get("/v1/keys", {"X-API-Key": key})}
            for call in calls.values():
                timed(call, 100)
            for _ in range(n):
                for name, call in calls.items():
                    t0 = time.perf_counter()
                    call()
                    samples[name].append(time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.wait(15)
    med = {k: statistics.median(v) * 1e6 for k, v in samples.items()}
    return [
        row("GET /healthz (no auth)", samples["health"]),
        row("GET /v1/keys, bearer token", samples["token"]),
        row("GET /v1/keys, X-API-Key", samples["apikey"]),
        f"| median difference token - healthz | {med['token'] - med['health']:.0f} | | |",
        f"| median difference api key - healthz | {med['apikey'] - med['health']:.0f} | | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="iterations per in-process measurement")
    parser.add_argument("--http", type=int, default=500, help="requests per endpoint over HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kitgate-bench-auth-") as tmp:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("\n| step | p50 µs | p90 µs | p99 µs |\n|---|---|---|---|")
        for line in in_process(args.n, Path(tmp) / "inproc"):
            print(line)
        for line in over_http(args.http, Path(tmp) / "http" / "data"):
            print(line)
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
