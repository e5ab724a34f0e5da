"""worker/picture.py: what the worker draws is the signed request, capped by the worker's OWN policy copy.

Real policies and a real usd-core stage; the drawing itself is the real kitgate.render child (one small
picture). A controller that signed a picture over the caps, a malformed request or a job that failed gets
a render error entry, never a render, and never a changed job status.
"""

from __future__ import annotations

import time
from typing import Any

from pxr import Usd, UsdGeom

from kitgate.protocol import JobStatus
from kitgate.sandbox.policy import load_policy
from kitgate.worker.picture import take_picture
from kitgate.worker.verify import Job


def _job(render: Any, policy: str = "readonly") -> Job:
    return Job(job_id="j1", claim_id="c1", code="x = 1\n", policy=load_policy(policy), timeout_s=5.0,
               claims={"limits": {"timeout_s": 5.0, **({"render": render} if render is not None else {})}},
               claimed_at=time.time())


def _stage() -> Any:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Sphere.Define(stage, "/Ball")
    return stage


class _NoHost:
    pass


def test_no_request_no_picture() -> None:
    assert take_picture(_job(None), _stage(), _NoHost(), JobStatus.succeeded) is None


def test_over_the_workers_own_caps_is_not_drawn_even_if_signed() -> None:
    entry = take_picture(_job({"width": 4096, "height": 64, "camera": None}), _stage(), _NoHost(), "succeeded")
    assert entry["ok"] is False and entry["error"]["code"] == "RenderNotAllowed"
    assert "1024x1024" in entry["error"]["message"] and entry["error"]["hint"]


def test_malformed_signed_request_and_failed_job() -> None:
    bad = take_picture(_job({"width": "wide", "height": 64}), _stage(), _NoHost(), JobStatus.succeeded)
    assert bad["error"]["code"] == "BadRequest"
    failed = take_picture(_job({"width": 64, "height": 64, "camera": None}), _stage(), _NoHost(), JobStatus.failed)
    assert failed["error"]["code"] == "NotRendered" and "failed" in failed["error"]["message"]


def test_a_host_that_draws_itself_gets_the_policy_caps() -> None:
    seen: list[Any] = []

    class KitLike:
        def render(self, job: Job, stage: Any, ask: dict, caps: Any) -> dict:
            seen.append((ask, caps))
            return {"ok": False, "error": {"code": "RendererUnavailable", "message": "m", "hint": "h"}}

    entry = take_picture(_job({"width": 64, "height": 32, "camera": "/Cam"}), _stage(), KitLike(), "succeeded")
    assert entry["error"]["code"] == "RendererUnavailable"
    ask, caps = seen[0]
    assert ask == {"width": 64, "height": 32, "camera": "/Cam"} and caps is load_policy("readonly").render


def test_the_headless_path_draws_the_stage_in_a_child() -> None:
    entry = take_picture(_job({"width": 48, "height": 32, "camera": None}), _stage(), _NoHost(), "succeeded")
    assert entry["ok"] is True, entry
    assert (entry["width"], entry["height"]) == (48, 32) and entry["png_base64"] and entry["render_ms"] > 0
