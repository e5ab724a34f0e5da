"""The worker's settings come from one reading of the environment, and the asset root reaches the policy.

Why: the sandbox no longer falls back to KITGATE_ASSET_ROOT, so the worker must carry it from
WorkerEnvironment through RunnerConfig to the claim checker; a worker that dropped it would run every
job without its relative asset roots (deny by default, but a silent change of behaviour).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitgate.worker.config import WorkerEnvironment


def test_the_environment_is_read_into_one_value(tmp_path: Path) -> None:
    env = WorkerEnvironment.read({"KITGATE_ASSET_ROOT": str(tmp_path), "KITGATE_WORKER_PYTHON": "/opt/py",
                                  "XDG_STATE_HOME": str(tmp_path / "state")})
    assert (env.asset_root, env.fork_python, env.state_home) == (tmp_path, "/opt/py", tmp_path / "state")
    empty = WorkerEnvironment.read({"KITGATE_ASSET_ROOT": "", "KITGATE_WORKER_PYTHON": ""})
    assert empty.asset_root is None and empty.fork_python is None
    assert empty.state_home == Path.home() / ".local" / "state"


def test_the_claim_checker_resolves_asset_roots_against_the_configured_root(tmp_path: Path) -> None:
    from kitgate.protocol.claims import build_claims, code_sha256, sign_claim
    from kitgate.sandbox.policy import load_policy
    from kitgate.worker.verify import ClaimChecker, parse_claim

    key = Ed25519PrivateKey.generate()
    policy = load_policy("scene-edit")
    code = "x = 1\n"

    def claim(worker: str) -> object:
        claims = build_claims(job_id="j1", code_sha256=code_sha256(code), policy=policy.name,
                              policy_digest=policy.digest, limits={}, timeout_s=5, worker_id=worker, attempt=1,
                              ttl_s=60)
        return parse_claim({"job_id": "j1", "claim_id": claims["jti"], "code": code, "policy": policy.name,
                            "policy_digest": policy.digest, "timeout_s": 5,
                            "envelope": sign_claim(key, "k1", claims)})

    rooted = ClaimChecker({"k1": key.public_key()}, "w1", None, tmp_path).check(claim("w1"))
    assert rooted.policy.asset_roots == (os.path.realpath(tmp_path),)
    bare = ClaimChecker({"k1": key.public_key()}, "w2").check(claim("w2"))
    assert bare.policy.asset_roots == ()  # no configured root: relative roots are dropped
    assert rooted.policy.digest == bare.policy.digest  # the digest is of the policy's bytes, not of the host
