"""The client's own response models agree with the server's published contract (shared_schema.json).

Why: the client no longer imports the controller's models (so `pip install kitgate` needs no server), and
two copies of a shape drift. This test reads the OpenAPI document the controller serves (test_schema_cli.py
holds that file to the live app) and checks, for every client model, against its server component:

- every field the client declares exists on the server, and the client accepts every JSON type the
  server may send in it (null included; a nested model is checked as its own pair);
- every field the server requires is declared by the client (the client relies on it), and the client
  requires nothing the server may leave out;
- the client's JobStatus has exactly the server's status values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from kitgate.client import models
from kitgate.protocol.status import JobStatus

REPO = Path(__file__).resolve().parents[2]
COMPONENTS: dict[str, Any] = json.loads((REPO / "shared_schema.json").read_text())["components"]["schemas"]

# client model -> the server's component of the same body
PAIRS: dict[type[BaseModel], str] = {
    models.Violation: "Violation",
    models.ValidateResponse: "ValidateResponse",
    models.ErrorInfo: "ErrorInfo",
    models.Timings: "Timings",
    models.JobResult: "ExecutionResult",
    models.JobView: "JobView",
    models.JobList: "JobList",
    models.JobProgress: "JobProgress",
    models.JobCode: "JobCode",
    models.RenderSpec: "RenderSpec",
    models.RenderOutcome: "RenderOutcome",
    models.RenderProblem: "RenderError",
}
SERVER_NAME = {cls.__name__: name for cls, name in PAIRS.items()} | {"JobStatus": "ExecutionStatus"}


def _atoms(schema: dict[str, Any], client_side: bool) -> set[Any]:
    """The JSON types a field schema accepts, as comparable atoms (refs named by their server component)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return {("ref", SERVER_NAME.get(name, name) if client_side else name)}
    if "anyOf" in schema:
        return set().union(*(_atoms(s, client_side) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind is None:
        return {"any"}
    if kind == "array":
        return {("array", frozenset(_atoms(schema.get("items", {}), client_side)))}
    return {kind}


def _covers(client: set[Any], server: set[Any]) -> bool:
    """True when every type the server may send is one the client accepts."""
    def one(sent: Any) -> bool:
        for ok in client:
            if ok == "any" or ok == sent or (ok == "number" and sent == "integer"):
                return True
            if isinstance(ok, tuple) and isinstance(sent, tuple) and ok[0] == sent[0] == "array":
                return _covers(set(ok[1]), set(sent[1]))
        return False

    return all(one(sent) for sent in server)


@pytest.mark.parametrize("client_model", list(PAIRS), ids=lambda cls: cls.__name__)
def test_client_model_matches_the_server_component(client_model: type[BaseModel]) -> None:
    server = COMPONENTS[PAIRS[client_model]]
    client = client_model.model_json_schema(mode="validation")
    server_props, client_props = server.get("properties", {}), client.get("properties", {})
    problems = []
    for field, schema in client_props.items():
        if field not in server_props:
            problems.append(f"{field}: declared by the client, absent from the server's {PAIRS[client_model]}")
            continue
        want, have = _atoms(server_props[field], client_side=False), _atoms(schema, client_side=True)
        if not _covers(have, want):
            problems.append(f"{field}: the server sends {sorted(map(str, want))}, the client accepts "
                            f"{sorted(map(str, have))}")
    server_required, client_required = set(server.get("required", [])), set(client.get("required", []))
    problems += [f"{f}: required by the server, not declared by the client" for f in server_required
                 if f not in client_props]
    problems += [f"{f}: required by the client, optional on the server" for f in client_required - server_required]
    assert not problems, f"{client_model.__name__} vs {PAIRS[client_model]}:\n" + "\n".join(problems)


def test_every_nested_model_is_paired() -> None:
    """A nested model the client reads must itself be checked (or the comparison above proves nothing)."""
    for client_model in PAIRS:
        for name in client_model.model_json_schema().get("$defs", {}):
            assert name in SERVER_NAME, f"{client_model.__name__} nests {name}, which has no server pair"


def test_status_values_are_the_servers() -> None:
    assert [s.value for s in JobStatus] == COMPONENTS["ExecutionStatus"]["enum"]


def test_client_reads_a_response_with_fields_it_does_not_know() -> None:
    """A newer controller may add fields; an older SDK must still read the body."""
    body = {"job_id": "j1", "status": "queued", "server_time": 1.0, "new_field_from_the_future": {"x": 1}}
    progress = models.JobProgress.model_validate(body)
    assert progress.status is JobStatus.queued and not hasattr(progress, "new_field_from_the_future")
