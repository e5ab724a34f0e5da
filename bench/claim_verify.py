"""What checking a signed claim costs the worker, per job: `verify_claim` alone and `ClaimChecker.check`.

Why: every job the worker runs is first checked (format, Ed25519 signature, code hash, policy digest,
audience, expiry, replay). This times exactly that code on fresh controller-signed claims (each token is
used once, as on the wire), in batches, and prints the best and the median batch as microseconds per
claim, in wall and in this process's CPU time: on a busy machine the best batch is the least disturbed
one, and CPU time leaves out the waits for a core.

Run: .venv/bin/python bench/claim_verify.py [--n 2000] [--batches 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable


def _tokens(n: int, key: object, policy_name: str, digest: str, code: str, worker: str) -> list[tuple[str, str]]:
    from kitgate.protocol.claims import build_claims, code_sha256, sign_claim

    out = []
    for i in range(n):
        claims = build_claims(job_id=f"j{i}", code_sha256=code_sha256(code), policy=policy_name,
                              policy_digest=digest, limits={"wall_s": 5, "memory_mb": 512}, timeout_s=5,
                              worker_id=worker, attempt=1, ttl_s=300)
        out.append((sign_claim(key, "bench", claims), str(claims["jti"])))
    return out


def _batches(run: Callable[[int], None], n: int, batches: int) -> tuple[list[float], list[float]]:
    """Per-claim microseconds of each batch: (wall, this process's CPU)."""
    wall, cpu = [], []
    for b in range(batches):
        c0, t0 = time.process_time(), time.perf_counter()
        run(b)
        wall.append((time.perf_counter() - t0) * 1e6 / n)
        cpu.append((time.process_time() - c0) * 1e6 / n)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="claims per batch")
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ClaimChecker.check")
    args = parser.parse_args(argv)

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kitgate.protocol.claims import ReplayWindow, verify_claim
    from kitgate.sandbox.policy import load_policy
    from kitgate.worker.verify import ClaimChecker, RawClaim

    key = Ed25519PrivateKey.generate()
    keys = {"bench": key.public_key()}
    policy = load_policy("scene-edit")
    code = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/Bench')\n"
    worker = "bench-worker"
    t0 = time.perf_counter()
    sets = [_tokens(args.n, key, policy.name, policy.digest, code, worker) for _ in range(2 * args.batches + 1)]
    sign_us = (time.perf_counter() - t0) * 1e6 / (args.n * len(sets))

    checker = ClaimChecker(keys, worker)
    warm = sets.pop()
    for i, (token, jti) in enumerate(warm[:50]):  # imports, the policy cache
        checker.check(RawClaim(f"j{i}", jti, code, policy.name, policy.digest, 5.0, token))

    def verify_only(b: int) -> None:
        seen = ReplayWindow()
        for token, _ in sets[b]:
            verify_claim(token, keys, code=code, policy_digest=policy.digest, worker_id=worker, seen=seen)

    def check(b: int) -> None:
        batch = sets[args.batches + b]
        for i, (token, jti) in enumerate(batch):
            checker.check(RawClaim(f"j{i}", jti, code, policy.name, policy.digest, 5.0, token))

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        check(0)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(20)
        print(buf.getvalue())
        return 0

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    verify_wall, verify_cpu = _batches(verify_only, args.n, args.batches)
    check_wall, check_cpu = _batches(check, args.n, args.batches)
    print(f"{args.n} fresh claims per batch, {args.batches} batches; load average {load:.2f}")
    print(f"{'step (us per claim)':<44} {'best wall':>9} {'med wall':>9} {'best CPU':>9} {'med CPU':>9}")
    for label, wall, cpu in (("verify_claim (signature + claims + replay)", verify_wall, verify_cpu),
                             ("ClaimChecker.check (+ policy lookup)", check_wall, check_cpu)):
        print(f"{label:<44} {min(wall):9.1f} {statistics.median(wall):9.1f} {min(cpu):9.1f} "
              f"{statistics.median(cpu):9.1f}")
    print(f"{'sign_claim (controller side, mean wall)':<44} {sign_us:9.1f}")
    if hasattr(os, "getloadavg"):
        print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
