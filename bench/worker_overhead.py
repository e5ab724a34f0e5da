"""Worker-side overhead for a trivial job: envelope check + compile-cache hit + fork + delta apply.

Runs the same code the worker runs (ClaimChecker, compile_source, Executor.execute, Delta.apply_to,
the worker's result building and outbox write), in-process, without HTTP, so the numbers are the
worker's own cost. Usage: .venv/bin/python bench/worker_overhead.py [--n 50] [--prims 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRIVIAL = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/Bench_{i}')\n"


def _stage(prims: int) -> Any:
    from pxr import Sdf, Usd

    stage = Usd.Stage.CreateInMemory()
    layer = stage.GetRootLayer()
    with Sdf.ChangeBlock():
        for i in range(prims):
            Sdf.CreatePrimInLayer(layer, f"/Scene/P{i}").specifier = Sdf.SpecifierDef
    return stage


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000.0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--prims", type=int, default=10_000, help="size of the scene the job runs against")
    args = ap.parse_args(argv)

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kitgate.protocol.claims import sign_claim
    from kitgate.sandbox.compile.compiler import compile_source
    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy
    from kitgate.worker.results import build_result, outcome_fields
    from kitgate.worker.state import WorkerState
    from kitgate.worker.verify import ClaimChecker, RawClaim

    policy = load_policy("scene-edit")
    key = Ed25519PrivateKey.generate()
    checker = ClaimChecker({"bench": key.public_key()}, "bench-worker")
    stage = _stage(args.prims)
    rows: dict[str, list[float]] = {k: [] for k in ("envelope", "compile (cache hit)", "execute (fork+run+delta)",
                                                    "apply delta", "result + outbox", "total")}
    with tempfile.TemporaryDirectory() as tmp, Executor() as ex:
        state = WorkerState(Path(tmp))
        ex.execute(TRIVIAL.format(i="warm"), policy, stage)  # start the fork server, fill the compile cache
        for i in range(args.n):
            code = TRIVIAL.format(i=i % 4)  # 4 distinct sources: compile cache hits after the first round
            compile_source(code, policy)
            now = time.time()
            jti = uuid.uuid4().hex
            claims = {"iss": "kitgate", "aud": "bench-worker", "sub": f"job{i}", "jti": jti, "iat": int(now),
                      "exp": int(now) + 300, "code_sha256": hashlib.sha256(code.encode()).hexdigest(),
                      "policy": policy.name, "policy_digest": policy.digest, "limits": {}, "timeout_s": 10,
                      "attempt": 1}
            token = sign_claim(key, "bench", claims)
            raw = RawClaim(f"job{i}", jti, code, policy.name, policy.digest, 10.0, token)
            t_env, job = _timed(lambda raw=raw: checker.check(raw))
            t_cmp, _ = _timed(lambda code=code: compile_source(code, policy))
            t_exe, (outcome, delta) = _timed(lambda job=job: ex.execute(job.code, job.policy, stage, timeout_s=10))
            assert outcome.status == "succeeded", outcome
            t_app, _ = _timed(lambda delta=delta: delta.apply_to(stage))

            def report(job: Any = job, outcome: Any = outcome, now: float = now) -> None:
                result = build_result(outcome_fields(outcome), claim_id=job.claim_id, worker_id="bench-worker",
                                      claimed_at=now, started_at=now)
                state.record_claim(job.claim_id, job.job_id, None)
                state.finish_claim(job.claim_id, result, job.job_id)
                state.acknowledge(job.claim_id)

            t_rep, _ = _timed(report)
            for k, v in zip(rows, (t_env, t_cmp, t_exe, t_app, t_rep, t_env + t_cmp + t_exe + t_app + t_rep),
                            strict=True):
                rows[k].append(v)

    print(f"worker overhead, trivial job, {args.prims}-prim scene, n={args.n} (ms)")
    print(f"{'step':28} {'median':>8} {'p90':>8} {'max':>8}")
    for name, values in rows.items():
        values.sort()
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"{name:28} {statistics.median(values):8.2f} {p90:8.2f} {values[-1]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
