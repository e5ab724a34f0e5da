"""JSON shape limits on every request body, over real HTTP against a real controller.

Why: the stdlib parser and pydantic recurse over nested JSON. A worker result whose `value` nested ~300
deep was parsed, stored, and then failed pydantic's serialisation depth on every later read (a 500 for
the report, for `GET /v1/jobs/{id}` and for the job list, for ever). Deeper bodies hit the parser's
recursion limit (a generic 400). Every JSON body is now measured once, iteratively, before anything
parses it, and refused with a 422 envelope naming the limit; rows stored before the limit existed are
served with the too-deep value withheld instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from harness import ControllerProcess, HttpWorker

from .helpers import assert_envelope, sqlite_path

TRIVIAL = "x = 1\n"
MAX_DEPTH = 100  # KITGATE_MAX_JSON_DEPTH's default


def nested_list(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def raw_nested(depth: int, key: str = "value", extra: str = "") -> bytes:
    """A body too deep for even json.dumps to build: written as text."""
    return ('{"status":"succeeded",' + extra + f'"{key}":' + "[" * depth + "0" + "]" * depth + "}").encode()


@pytest.fixture(scope="module")
def op(controller: ControllerProcess, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with controller.client(tokens["operator"]) as c:
        yield c


@pytest.fixture()
def worker(controller: ControllerProcess, tokens: dict[str, str]) -> Iterator[HttpWorker]:
    w = HttpWorker(controller, tokens["worker"], worker_id="w-json")
    yield w
    w.close()


def claimed(op: httpx.Client, worker: HttpWorker) -> dict[str, Any]:
    r = op.post("/v1/jobs", json={"code": TRIVIAL})
    assert r.status_code == 202, r.text
    claim = worker.claim()
    assert claim is not None and claim["job_id"] == r.json()["id"]
    return claim


def assert_too_deep(r: httpx.Response) -> dict[str, Any]:
    err = assert_envelope(r, 422, "json_too_deep")
    assert err["details"]["max_depth"] == MAX_DEPTH, err
    assert str(MAX_DEPTH) in err["message"] and "KITGATE_MAX_JSON_DEPTH" in err["message"], err
    return err


def finish_normally(op: httpx.Client, worker: HttpWorker, claim: dict[str, Any]) -> None:
    """The refused report changed nothing: the claim still holds and a normal report is stored."""
    assert op.get(f"/v1/jobs/{claim['job_id']}").json()["status"] == "running"
    ok = worker.report(claim, value={"depth": nested_list(60)})
    assert ok.status_code == 200, ok.text
    got = op.get(f"/v1/jobs/{claim['job_id']}")
    assert got.status_code == 200 and got.json()["result"]["value"] == {"depth": nested_list(60)}


@pytest.mark.parametrize("shape", ["list-300", "dict-300", "list-256", "list-101"])
def test_deep_result_value_is_refused_at_parse_time(op, worker, shape) -> None:
    kind, depth = shape.split("-")
    value = (nested_list if kind == "list" else nested_dict)(int(depth))
    claim = claimed(op, worker)
    assert_too_deep(worker.report(claim, value=value))
    finish_normally(op, worker, claim)


def test_a_result_at_the_sandbox_depth_is_accepted(op, worker) -> None:
    """What the sandbox's to_json can produce (65 levels) plus the body's own object fits under the limit."""
    claim = claimed(op, worker)
    value = nested_list(MAX_DEPTH - 1)
    r = worker.report(claim, value=value)
    assert r.status_code == 200, r.text
    assert op.get(f"/v1/jobs/{claim['job_id']}").json()["result"]["value"] == value
    listed = op.get("/v1/jobs", params={"limit": 5})
    assert listed.status_code == 200 and claim["job_id"] in {j["id"] for j in listed.json()["jobs"]}


def test_parser_recursion_depth_is_a_422_not_a_400(op, worker) -> None:
    claim = claimed(op, worker)
    r = worker.client.post(f"/v1/jobs/{claim['job_id']}/result", content=raw_nested(
        50_000, extra=f'"worker_id":"w-json","claim_id":"{claim["claim_id"]}",'),
        headers={"content-type": "application/json"})
    assert_too_deep(r)
    finish_normally(op, worker, claim)


def test_seed_alias_status_update_is_limited_too(op, worker) -> None:
    claim = claimed(op, worker)
    body = {"task_id": claim["job_id"], "status": "succeeded", "worker_id": "w-json", "claim_id": claim["claim_id"],
            "value": nested_dict(300)}
    assert_too_deep(worker.client.post("/status_update", json=body))
    finish_normally(op, worker, claim)


@pytest.mark.parametrize("where", ["submit", "execute", "validate", "claim", "heartbeat"])
def test_every_json_body_is_limited(op, worker, where) -> None:
    """Not only results: every endpoint that parses JSON, whatever field the nesting hides in."""
    deep = nested_list(150)
    calls = {
        "submit": (op, "/v1/jobs", {"code": TRIVIAL, "labels": deep}),
        "execute": (op, "/execute", {"code": TRIVIAL, "wait_s": 0, "extra": deep}),
        "validate": (op, "/v1/validate", {"code": TRIVIAL, "policy": deep}),
        "claim": (worker.client, "/v1/workers/claim", {"worker_id": "w-json", "labels": deep}),
        "heartbeat": (worker.client, "/v1/workers/heartbeat", {"worker_id": "w-json", "state": deep}),
    }
    client, path, body = calls[where]
    assert_too_deep(client.post(path, json=body))


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "application/problem+json"])
def test_content_types_the_app_parses_as_json_are_checked(op, content_type) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = b'{"code": "x = 1\\n", "labels": ' + b"{\"a\":" * 5000 + b"1" + b"}" * 5000 + b"}"
    r = op.post("/v1/jobs", content=body, headers=headers)
    if content_type is None and r.status_code == 422 and r.json()["error"]["code"] != "json_too_deep":
        pytest.skip("this FastAPI does not parse bodies without a content type")  # pragma: no cover
    assert_too_deep(r)


def test_brackets_inside_strings_do_not_count(op, worker) -> None:
    """The scanner skips string contents, escaped quotes included, so text full of brackets is fine."""
    claim = claimed(op, worker)
    text = '\\"' + "[{" * 5000 + '"]'  # an escaped quote, then brackets that are still inside the string
    r = worker.report(claim, value={"text": text, "list": nested_list(40)}, stdout="[" * 10_000)
    assert r.status_code == 200, r.text
    assert op.get(f"/v1/jobs/{claim['job_id']}").json()["result"]["value"]["text"] == text


def test_too_many_containers_are_refused(op, worker) -> None:
    claim = claimed(op, worker)
    body = ('{"status":"succeeded","worker_id":"w-json","claim_id":"' + claim["claim_id"] + '","value":['
            + ",".join(["[]"] * 150_000) + "]}").encode()
    r = worker.client.post(f"/v1/jobs/{claim['job_id']}/result", content=body,
                           headers={"content-type": "application/json"})
    err = assert_envelope(r, 422, "json_too_large")
    assert err["details"]["max_containers"] == 100_000 and "KITGATE_MAX_JSON_CONTAINERS" in err["message"], err
    finish_normally(op, worker, claim)


def test_huge_integer_literal_is_a_clear_422(op, worker) -> None:
    claim = claimed(op, worker)
    body = ('{"status":"succeeded","worker_id":"w-json","claim_id":"' + claim["claim_id"] + '","value":'
            + "7" * 5000 + "}").encode()
    r = worker.client.post(f"/v1/jobs/{claim['job_id']}/result", content=body,
                           headers={"content-type": "application/json"})
    err = assert_envelope(r, 422, "json_number_too_long")
    assert err["details"]["max_digits"] == 4300, err
    finish_normally(op, worker, claim)


def test_a_too_deep_row_stored_earlier_is_served_with_the_value_withheld(controller, op, worker) -> None:
    """A row stored before the limit existed (written here straight into SQLite) must not 500 on read."""
    claim = claimed(op, worker)
    assert worker.report(claim, value=1).status_code == 200
    conn = sqlite3.connect(sqlite_path(controller))
    try:
        row = conn.execute("SELECT result FROM jobs WHERE id=?", (claim["job_id"],)).fetchone()
        result = json.loads(row[0])
        result["value"] = nested_list(300)
        with conn:
            conn.execute("UPDATE jobs SET result=? WHERE id=?", (json.dumps(result), claim["job_id"]))
    finally:
        conn.close()
    for path in (f"/v1/jobs/{claim['job_id']}", f"/status/{claim['job_id']}"):
        r = op.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        value = r.json()["result"]["value"]
        assert isinstance(value, dict) and "withheld" in value and str(MAX_DEPTH) in value["withheld"], value
        assert r.json()["status"] == "succeeded"
    listed = op.get("/v1/jobs", params={"limit": 50})
    assert listed.status_code == 200 and claim["job_id"] in {j["id"] for j in listed.json()["jobs"]}
