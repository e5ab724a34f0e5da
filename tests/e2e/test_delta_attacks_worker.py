"""A job's scene delta must never kill or stall the worker that applies it: proven over real processes.

Why here and not only in tests/sandbox/test_delta_budget.py: whatever a host does with a child's delta
(re-parse the text, apply it, re-order children, recompose the stage, save it) runs in the worker
process, outside every job limit. A crash there takes the whole worker down and the job stays `running`;
a stall blocks the queue behind it. Only a real `kitgate worker` talking to a real controller shows
both: the job reaches a terminal state over HTTP, the worker keeps its pid, and the next job runs and is
saved into the worker's stage file.

All jobs go through HTTP under the default `scene-edit` policy, one after another on ONE worker (a
module fixture), in the order they are written here. Shapes come from the security corpus
(tests/security/corpus/hst_*) plus new ones that reach the same host code another way.

An honest child refuses most of these itself (it runs the host's checks on its own result first), so a
second worker runs a COMPROMISED child: the same code, except that the child's `build_delta` returns a
forged wire delta when the job defines a marker prim. Those deltas reach the real worker's host side
(`Delta.from_wire`, `apply_to`, the runner) exactly as a child that an attacker controls would send them.
(An honest child runs the marker job, a single DefinePrim, to success: a refusal proves the forgery arrived.)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from executor.conftest import submit
from harness import FAST_ENV, ControllerProcess
from worker_harness import WorkerProcess

CORPUS = Path(__file__).resolve().parents[1] / "security" / "corpus"
LABEL = "delta-attacks"
JOB_TIMEOUT_S = 120.0  # the job limit the controller hands the child (scene-edit caps it anyway)
WAIT_S = 150.0  # a stalled worker fails the wait (under pytest-timeout's 180 s); fixed code needs ~1 s
REFUSED = ("DeltaRejected", "SandboxDenied")  # the delta check, or an earlier layer (the object proxies)


@dataclass
class Bench:
    """The module's controller, operator client and its one worker (with the pid it started with)."""

    ctl: ControllerProcess
    op: httpx.Client
    worker: WorkerProcess
    stage_path: Path
    pid: int
    label: str = LABEL


def _start_bench(root: Path, label: str, env: dict[str, str] | None = None) -> Bench:
    ctl = ControllerProcess(root / "ctl", env=FAST_ENV)
    token = root / "worker.token"
    token.write_text(ctl.mint_token("worker"))
    token.chmod(0o600)
    stage_path = root / "scene.usda"
    worker = WorkerProcess(ctl.url, token, stage_path, labels=[label], worker_id=f"w-{label}", env=env)
    op = ctl.client(ctl.mint_token("jobs:submit", "jobs:read"))
    ready = Bench(ctl, op, worker, stage_path, worker.pid, label)
    try:
        _next_job_runs(ready)  # the worker serves, and its stage file exists before the first attack
    except BaseException:
        _stop_bench(ready)
        raise
    return ready


def _stop_bench(bench: Bench) -> None:
    bench.op.close()
    bench.worker.stop()
    bench.ctl.stop()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    ready = _start_bench(tmp_path_factory.mktemp("delta-attacks"), LABEL)
    yield ready
    _stop_bench(ready)


# --------------------------------------------------------------------------------------------- helpers


TERMINAL = {"succeeded", "failed", "timed_out", "rejected", "cancelled", "lost"}


def _run(bench: Bench, code: str) -> dict[str, Any]:
    """Submit under the default policy (no `policy` field) and wait for a terminal state; fail at once if
    the worker dies meanwhile (its job would stay `running` until the heartbeat timeout)."""
    job_id = submit(bench.op, code, labels=[bench.label], timeout_s=JOB_TIMEOUT_S)
    deadline = time.monotonic() + WAIT_S
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = bench.op.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in TERMINAL:
            assert job["policy"] == "scene-edit", job
            return job
        if not bench.worker.running:
            rc = bench.worker.proc.returncode if bench.worker.proc else None
            raise AssertionError(f"the worker died (rc={rc}) while job {job_id} was {job['status']}:\n"
                                 f"{bench.worker.logs()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} stalled for {WAIT_S}s ({job.get('status')}):\n{bench.worker.logs()[-3000:]}")


def _saved_layer(bench: Bench) -> Any:
    from pxr import Sdf

    layer = Sdf.Layer.OpenAsAnonymous(str(bench.stage_path))
    assert layer is not None, f"the worker's stage file {bench.stage_path} does not open"
    return layer


def _assert_worker_alive(bench: Bench) -> None:
    assert bench.worker.running, f"the worker died on a job's delta:\n{bench.worker.logs()[-3000:]}"
    assert bench.worker.pid == bench.pid


def _assert_refused(job: dict[str, Any], word: str, kinds: tuple[str, ...] = REFUSED) -> str:
    """Refused, and the message teaches: what was refused (`word`), why, and what to write instead."""
    assert job["status"] in ("failed", "rejected"), job
    error = (job.get("result") or {}).get("error") or {}
    assert error.get("type") in kinds, job
    message = str(error.get("message") or "")
    assert word in message.lower(), message
    assert ";" in message and len(message) > 60, f"the refusal does not say what to do instead: {message}"
    assert job["result"]["changed_prims"] == [], job
    return message


def _next_job_runs(bench: Bench) -> None:
    """The worker is the same process, and a harmless job after the attack is applied and saved."""
    _assert_worker_alive(bench)
    name = f"After_{uuid.uuid4().hex[:8]}"
    job = _run(bench, f"stage.DefinePrim('/World/{name}', 'Xform')\nresult = '{name}'\n")
    assert job["status"] == "succeeded", (job, bench.worker.logs()[-3000:])
    assert job["result"]["value"] == name
    layer = _saved_layer(bench)  # keep it: a spec does not keep its layer alive
    prim = layer.GetPrimAtPath(f"/World/{name}")
    assert prim is not None and prim.typeName == "Xform"
    _assert_worker_alive(bench)


def _corpus(name: str) -> str:
    return (CORPUS / name).read_text()


# ----------------------------------------------------------------------------------------- job shapes

# (a) Deep paths. The corpus shapes nest 35,000 levels through Sdf.Path calls; the string shape builds the
# same path text by repetition and lets the child parse it at a depth the child survives, just past what
# the host will read; the long prim path stays flat but has more elements than the host reads.
TARGET_BY_STRING = """
from pxr import Sdf
n = 6
text = "/B.r[" * n + "/D" + "].x" * n
stage.DefinePrim("/World/Q").CreateRelationship("rel").AddTarget(Sdf.Path(text))
"""
TARGET_200_DEEP = TARGET_BY_STRING.replace("n = 6", "n = 200")  # 400 elements: under the object layer's cap
DEEP_PRIM_TREE = """
stage.DefinePrim("/World" + "/a" * 600)
"""
DEEP_CUSTOM_DATA = """
d = {"leaf": 1}
for i in range(600):
    d = {"k": d}
stage.DefinePrim("/World/Meta").SetCustomData(d)
"""
LONG_TARGET = """
from pxr import Sdf
stage.DefinePrim("/World/L").CreateRelationship("rel").AddTarget(Sdf.Path("/World" + "/a" * 1500))
"""

# (b) Diamonds: the corpus's three hiding places (inactive in the job's session layer, unloaded payloads,
# an unselected variant), plus a bomb split over two jobs: the first is small and lands on the host, the
# second fans out into it from under a prim the job's own stage sees as inactive.
_DIAMOND = """
def diamond(root, k):
    lines = ["#usda 1.0", 'over "World"', "{", 'def "' + root + '"', "{"]
    for i in range(k + 1):
        for n in "AB":
            nxt = "/World/" + root + "/%s" + str(i + 1)
            arcs = "" if i == k else " (prepend references = [<" + nxt % "A" + ">, <" + nxt % "B" + ">])"
            lines.append('def "' + n + str(i) + '"' + arcs + " {}")
    return "\\n".join(lines + ["}", "}"])
"""
CHAIN_FIRST = _DIAMOND + """
from pxr import Sdf
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString(diamond("Base", 8))
Sdf.CopySpec(scratch, "/World/Base", stage.GetRootLayer(), "/World/Base")
"""
CHAIN_SECOND = _DIAMOND + """
from pxr import Sdf, Usd
with Usd.EditContext(stage, stage.GetSessionLayer()):
    stage.OverridePrim("/World/Top").SetActive(False)
text = diamond("Top", 16).replace("/World/Top/A16>", "/World/Base/A0>").replace("/World/Top/B16>", "/World/Base/B0>")
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString(text)
Sdf.CopySpec(scratch, "/World/Top", stage.GetRootLayer(), "/World/Top")
"""

# (c) Cycles: the corpus's reference/inherit pair, and a three-prim cycle mixing payload, specializes
# and reference, built in a scratch layer and copied under a prim the job's own stage never composes.
HIDDEN_CYCLE = """
from pxr import Sdf, Usd
with Usd.EditContext(stage, stage.GetSessionLayer()):
    stage.OverridePrim("/World/Loop").SetActive(False)
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString('''#usda 1.0
over "World" {
    def "Loop" {
        def "X" (prepend payload = </World/Loop/Y>) {}
        def "Y" (prepend specializes = </World/Loop/Z>) {}
        def "Z" (prepend references = </World/Loop/X>) {}
    }
}
''')
Sdf.CopySpec(scratch, "/World/Loop", stage.GetRootLayer(), "/World/Loop")
"""


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    word: str  # what the refusal must name
    before: str | None = None  # a harmless job that prepares the host side first (must succeed)
    kinds: tuple[str, ...] = REFUSED


ATTACKS = [
    Attack("deep-relationship-target", _corpus("hst_01_deep_relationship_target.py"), "path"),
    Attack("deep-connection-path", _corpus("hst_02_deep_connection_path.py"), "path"),
    Attack("target-nesting-by-string", TARGET_BY_STRING, "target"),
    Attack("target-nested-200-by-string", TARGET_200_DEEP, "target"),
    Attack("target-with-too-many-elements", LONG_TARGET, "path"),
    Attack("prim-tree-600-deep", DEEP_PRIM_TREE, "nest"),
    # the child's delta builder refuses it first, as an edit an isolated job cannot carry back
    Attack("custom-data-600-deep", DEEP_CUSTOM_DATA, "nests deeper", kinds=(*REFUSED, "UnsupportedEdit")),
    Attack("diamond-session-inactive", _corpus("hst_03_diamond_session_inactive.py"), "prim-index nodes"),
    Attack("diamond-unloaded-payloads", _corpus("hst_04_diamond_unloaded_payloads.py"), "prim-index nodes"),
    Attack("diamond-unselected-variant", _corpus("hst_05_diamond_unselected_variant.py"), "prim-index nodes"),
    Attack("diamond-split-over-two-jobs", CHAIN_SECOND, "prim-index nodes", before=CHAIN_FIRST),
    Attack("reference-inherit-cycle", _corpus("hst_06_reference_cycle.py"), "cycle"),
    Attack("hidden-three-arc-cycle", HIDDEN_CYCLE, "cycle"),
]


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_refused_delta_leaves_the_worker_serving(bench: Bench, attack: Attack) -> None:
    if attack.before is not None:
        prep = _run(bench, attack.before)
        assert prep["status"] == "succeeded", prep
    before = bench.stage_path.read_bytes()
    job = _run(bench, attack.code)
    message = _assert_refused(job, attack.word, attack.kinds)
    print(f"\n{attack.name}: {job['status']} {job['result']['error']['type']}: {message}")
    assert bench.stage_path.read_bytes() == before, "a refused delta changed the saved stage"
    _next_job_runs(bench)


def _siblings(parent: str, count: int) -> str:
    """The parent is defined (so a later re-define resyncs one child only and the delta carries the parent's
    child order); the children are made in one change block, as cheap `over`s."""
    return (f"from pxr import Sdf\nstage.DefinePrim('{parent}', 'Scope')\nlayer = stage.GetRootLayer()\n"
            f"with Sdf.ChangeBlock():\n    for i in range({count}):\n"
            f"        Sdf.CreatePrimInLayer(layer, '{parent}/p%d' % i)\n")


def _redefine(parent: str, name: str = "p0") -> str:
    """Removing a child and defining it again moves it last: the delta re-orders all its siblings. The job
    returns its own view of the order (first two, last two) to compare with the saved stage."""
    return (f"stage.RemovePrim('{parent}/{name}')\nstage.DefinePrim('{parent}/{name}', 'Xform')\n"
            f"names = [c.GetName() for c in stage.GetPrimAtPath('{parent}').GetAllChildren()]\n"
            f"result = names[:2] + names[-2:]\n")


def _apply_ms(job: dict[str, Any]) -> float:
    assert job["status"] == "succeeded", job
    value = job["result"]["timings"]["apply_ms"]
    assert isinstance(value, (int, float)) and value > 0, job
    return float(value)


def _saved_children(bench: Bench, parent: str) -> list[str]:
    layer = _saved_layer(bench)
    spec = layer.GetPrimAtPath(parent)
    assert spec is not None, f"{parent} is not in the saved stage"
    return list(spec.nameChildren.keys())


def _sibling_round(bench: Bench, parent: str, count: int) -> tuple[float, float]:
    """Create `count` siblings, then re-define the first and then the second one. Returns the worker's
    apply_ms of the creation and the smaller one of the two re-defines (the machine is shared: the minimum
    of two is the steadier measure)."""
    create = _apply_ms(_run(bench, _siblings(parent, count)))
    last = f"p{count - 1}"
    redefines = []
    for name, expected in (("p0", ["p1", "p2", last, "p0"]), ("p1", ["p2", "p3", "p0", "p1"])):
        job = _run(bench, _redefine(parent, name))
        redefines.append(_apply_ms(job))
        assert job["result"]["value"] == expected, job  # the job's own view of the order
        names = _saved_children(bench, parent)
        assert len(names) == count and names[:2] + names[-2:] == expected, names[:2] + names[-2:]
    return create, min(redefines)


def test_many_siblings_and_a_redefine_cost_the_worker_linear_time(bench: Bench) -> None:
    """(d) 40,000 siblings plus a re-define succeed; re-ordering is linear, not quadratic.

    No absolute threshold: the same two jobs at 10,000 and at 40,000 siblings, on the same worker, in the
    same run. apply_ms includes the worker's save of the whole stage, so the 10,000 set is removed before
    the 40,000 set is made (each round saves a stage of about its own size). Quadratic re-ordering took
    ~16x for 4x the siblings (135 s at 40,000); linear stays near 4x."""
    small_create, small_redefine = _sibling_round(bench, "/World/Small", 10_000)
    removed = _run(bench, "stage.RemovePrim('/World/Small')\n")
    assert removed["status"] == "succeeded", removed
    assert not _saved_layer(bench).GetPrimAtPath("/World/Small")
    big_create, big_redefine = _sibling_round(bench, "/World/Big", 40_000)
    ratios = {"create": big_create / small_create, "redefine": big_redefine / small_redefine}
    print(f"\napply_ms 10k create {small_create:.1f} redefine {small_redefine:.1f}; "
          f"40k create {big_create:.1f} redefine {big_redefine:.1f}; ratios {ratios}")
    assert ratios["redefine"] < 10, ratios
    assert ratios["create"] < 10, ratios
    _next_job_runs(bench)


# Under ancestors that are only `over`s, defining one child also defines its ancestors: the change is
# reported at the top-most ancestor and the delta copies that whole subtree over the host's.
NESTED_REORDER = """
from pxr import Sdf
layer = stage.GetRootLayer()
for i in range(6):
    Sdf.CreatePrimInLayer(layer, '/Nest/Inner/S/p%d' % i)
"""


def test_child_order_inside_a_copied_subtree_matches_the_job(bench: Bench) -> None:
    """The host's stage must be what the job produced: a re-define deep inside a copied subtree keeps the
    job's child order (Sdf.CopySpec onto an existing prim keeps the destination's order)."""
    assert _run(bench, NESTED_REORDER)["status"] == "succeeded"
    job = _run(bench, _redefine("/Nest/Inner/S"))
    assert job["status"] == "succeeded", job
    assert job["result"]["value"] == ["p1", "p2", "p5", "p0"]
    assert _saved_children(bench, "/Nest/Inner/S") == ["p1", "p2", "p3", "p4", "p5", "p0"]
    _next_job_runs(bench)


LAYER_METADATA = """
layer = stage.GetRootLayer()
layer.customLayerData = {"tags": ["a", "b"], "scores": [1.5, 2.5], "nested": {"ids": [1, 2, 3]}}
layer.framePrecision = 5
result = layer.framePrecision
"""


def test_custom_layer_data_with_lists_and_frame_precision_round_trip(bench: Bench) -> None:
    """(e) Harmless layer metadata the policy lets a job set must reach the saved stage, not a refusal."""
    job = _run(bench, LAYER_METADATA)
    assert job["status"] == "succeeded", (job, bench.worker.logs()[-2000:])
    assert job["result"]["value"] == 5
    layer = _saved_layer(bench)
    assert layer.framePrecision == 5
    data = layer.customLayerData
    assert list(data["tags"]) == ["a", "b"]
    assert list(data["scores"]) == [1.5, 2.5]
    assert list(data["nested"]["ids"]) == [1, 2, 3]
    _next_job_runs(bench)


# ------------------------------------------------------------------------------- a compromised child

# Source appended to a copy of sandbox/process/child.py: forged wire deltas, built in the child (no file access
# needed), keyed by the marker prim the job defines. Everything else in the package is the real code.
FORGE_SOURCE = r"""

def _kg_deep(n):
    return "/B.r[" * n + "/D" + "].x" * n


def _kg_diamond(k):
    lines = ["#usda 1.0"]
    for i in range(k + 1):
        for n in "AB":
            refs = "" if i == k else " (\n    prepend references = [</A%d>, </B%d>]\n)" % (i + 1, i + 1)
            lines.append('def "%s%d"%s\n{\n}' % (n, i, refs))
    return "\n".join(lines) + "\n", ["/%s%d" % (n, i) for i in range(k + 1) for n in "AB"]


def _kg_forged(name):
    if name == "deep_target_text":
        return {"layer": '#usda 1.0\ndef "P"\n{\n    rel r = <%s>\n}\n' % _kg_deep(40000), "copy": ["/P"]}
    if name == "deep_prim_nesting":
        n = 50000
        return {"layer": '#usda 1.0\n' + 'def "p" {\n' * n + "}\n" * n, "copy": ["/p"]}
    if name == "deep_path_in_order":
        return {"layer": "#usda 1.0\n", "copy": [], "order": {_kg_deep(40000): ["a"]}}
    if name == "diamond":
        text, copy = _kg_diamond(24)
        return {"layer": text, "copy": copy}
    if name == "cycle":
        return {"layer": '#usda 1.0\ndef "A" (\n    prepend references = </B>\n)\n{\n}\n'
                         'def "B" (\n    prepend inherits = </A>\n)\n{\n}\n', "copy": ["/A", "/B"]}
    return None


def _kg_forge(real):
    for path in real.get("changed", []):
        if path.startswith("/World/Forge_"):
            forged = _kg_forged(path[len("/World/Forge_"):])
            if forged is not None:
                return {"version": real["version"], "remove": [], "meta_set": [], "meta_clear": [],
                        "changed": ["/Forged"], "changed_total": 1, **forged}
    return real
"""


def _forging_package(root: Path) -> Path:
    """A `kitgate` package tree whose modules are links to the real ones, except sandbox/process/child.py."""
    import kitgate.client
    import kitgate.controller
    import kitgate.executor
    import kitgate.policies
    import kitgate.protocol
    import kitgate.sandbox
    import kitgate.worker

    pkg = root / "kitgate"
    sandbox = pkg / "sandbox"
    process = sandbox / "process"
    process.mkdir(parents=True)
    for module in (kitgate.client, kitgate.controller, kitgate.executor, kitgate.policies, kitgate.protocol,
                   kitgate.worker):
        (pkg / module.__name__.rsplit(".", 1)[1]).symlink_to(Path(module.__file__).parent)
    real = Path(kitgate.sandbox.__file__).parent
    for item in real.iterdir():
        if item.name not in ("process", "__pycache__"):
            (sandbox / item.name).symlink_to(item)
    for item in (real / "process").iterdir():
        if item.name not in ("child.py", "__pycache__"):
            (process / item.name).symlink_to(item)
    text = (real / "process" / "child.py").read_text()
    hook = "delta = build_delta(recorder)"
    assert text.count(hook) == 1, "sandbox/process/child.py changed: update the forging hook of this test"
    (process / "child.py").write_text(text.replace(hook, "delta = _kg_forge(build_delta(recorder))") + FORGE_SOURCE)
    return root


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("forged-child")
    env = {"PYTHONPATH": str(_forging_package(root / "pkg"))}
    ready = _start_bench(root, "forged-child", env=env)
    yield ready
    _stop_bench(ready)


FORGED = [  # marker, what the refusal names
    ("deep_target_text", "target"),
    ("deep_prim_nesting", "nests deeper"),
    ("deep_path_in_order", "target"),
    ("diamond", "prim-index nodes"),
    ("cycle", "cycle"),
]


@pytest.mark.parametrize(("marker", "word"), FORGED, ids=[m for m, _ in FORGED])
def test_forged_delta_from_a_compromised_child_is_refused_by_the_worker(forged: Bench, marker: str,
                                                                        word: str) -> None:
    before = forged.stage_path.read_bytes()
    job = _run(forged, f"stage.DefinePrim('/World/Forge_{marker}')\n")
    message = _assert_refused(job, word, ("DeltaRejected",))
    print(f"\nforged {marker}: {job['status']} {job['result']['error']['type']}: {message}")
    assert forged.stage_path.read_bytes() == before, "a refused delta changed the saved stage"
    _next_job_runs(forged)
