"""The host side of isolation: nothing a job returns may crash, stall or flood the host.

Whatever the host does with a child's delta (re-parse, apply, re-order, the composition that follows)
runs outside every job limit, so each attack here runs a REAL host: an `Executor` with its real fork
server, in a subprocess of its own (a host that segfaults or hangs fails the test instead of killing
pytest). Each case then runs a next job on the same executor, which must succeed.

Two kinds of attacker:
- a job script (what any submitter can send), built so the child's own stage never composes what the
  host would (a session-layer `active = false`, unloaded payloads, an unselected variant);
- a compromised child, which can return any wire dict: forged deltas go straight to
  `Delta.from_wire` + `apply_to`, the host's only contact with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

HOST_TIMEOUT_S = 150  # well past the fixed code's needs; the unfixed host takes minutes or crashes

_HOST = textwrap.dedent('''
    import json, sys, time
    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy
    from pxr import Sdf, Usd
    spec = json.loads(sys.stdin.read())
    policy = load_policy("scene-edit")
    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.ImportFromString('#usda 1.0\\n(\\n    defaultPrim = "World"\\n)\\n\\ndef Xform "World"\\n{\\n}\\n')
    stage = Usd.Stage.Open(layer)
    with Executor(scratch_root=spec["scratch"]) as ex:
        for source in spec["jobs"] + ['stage.DefinePrim("/World/After")\\nresult = 7\\n']:
            t0 = time.perf_counter()
            o = ex.run(source, policy, stage)
            print(json.dumps({"status": o.status, "limit": o.limit, "error": o.error, "value": o.value,
                              "host_s": time.perf_counter() - t0,
                              "apply_ms": o.timings.get("apply_ms", 0.0),
                              "after": bool(stage.GetPrimAtPath("/World/After"))}), flush=True)
    print(json.dumps({"layer_bytes": len(layer.ExportToString())}), flush=True)
''')

_FORGED = textwrap.dedent('''
    import json, sys, time
    from kitgate.sandbox.delta import Delta, DeltaError
    from pxr import Sdf, Usd
    spec = json.loads(sys.stdin.read())
    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.ImportFromString(spec["base"])
    stage = Usd.Stage.Open(layer)
    before = layer.ExportToString()
    t0 = time.perf_counter()
    try:
        Delta.from_wire(spec["wire"]).apply_to(stage)
        res = {"applied": True}
    except DeltaError as exc:
        res = {"applied": False, "type": type(exc).__name__, "message": str(exc)}
    res["host_s"] = time.perf_counter() - t0
    res["unchanged"] = layer.ExportToString() == before
    # the host goes on: a harmless delta applies
    ok = Delta.from_wire({"version": 1, "layer": '#usda 1.0\\ndef "Next"\\n{\\n}\\n', "copy": ["/Next"]})
    ok.apply_to(stage)
    res["next_ok"] = bool(stage.GetPrimAtPath("/Next"))
    print(json.dumps(res), flush=True)
''')


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    # KG_HOST_PYTHONPATH lets the same tests run against another checkout (the before/after evidence)
    extra = os.environ.get("KG_HOST_PYTHONPATH")
    if extra:
        env["PYTHONPATH"] = extra
    return env


def _run(code: str, spec: dict[str, Any], timeout: float = HOST_TIMEOUT_S) -> list[dict[str, Any]]:
    try:
        proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(spec), capture_output=True,
                              text=True, timeout=timeout, env=_python_env(), start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        pytest.fail(f"the host stalled for more than {timeout}s on a job's delta; it got as far as:\n{out[-2000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, (f"the host process died (rc={proc.returncode}) on a job's delta:\n"
                                  f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return lines


def _host(jobs: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    out = _run(_HOST, {"jobs": jobs, "scratch": str(scratch)})
    assert len(out) == len(jobs) + 2, out
    nxt = out[len(jobs)]
    assert nxt["status"] == "succeeded" and nxt["value"] == 7 and nxt["after"], f"next job failed: {nxt}"
    return out[: len(jobs)]


def _refused(res: dict[str, Any], kinds: tuple[str, ...] = ("DeltaRejected",)) -> str:
    """A refusal that teaches: DeltaRejected (or an earlier layer's refusal), saying what and what instead."""
    assert res["status"] == "failed", res
    err = res["error"] or {}
    assert err.get("type") in kinds, res
    message = str(err.get("message", ""))
    assert ";" in message and len(message) > 60, message  # what/why; then what to do instead
    return message


# ------------------------------------------------------------------------------------ job scripts

DEEP_TARGET = """
from pxr import Sdf
p = Sdf.Path("/D")
for i in range(35000):
    p = Sdf.Path("/B.r").AppendTarget(p).AppendRelationalAttribute("x")
stage.DefinePrim("/World/P").CreateRelationship("rel").AddTarget(p)
"""

DEEP_CONNECTION = """
from pxr import Sdf
p = Sdf.Path("/D")
for i in range(35000):
    p = Sdf.Path("/S.o").AppendTarget(p).AppendRelationalAttribute("y")
attr = stage.DefinePrim("/World/Shader").CreateAttribute("inputs:c", Sdf.ValueTypeNames.Float)
attr.AddConnection(p)
"""

# usda text for a diamond: level i's two prims each reference (or payload) both prims of level i + 1.
_DIAMOND_TEXT = """
def diamond(root, k, arc="references"):
    lines = ["#usda 1.0", 'over "World"', "{", 'def "' + root + '"', "{"]
    for i in range(k + 1):
        for n in "AB":
            base = "/World/" + root + "/"
            nxt = str(i + 1)
            arcs = "" if i == k else " (prepend " + arc + " = [<" + base + "A" + nxt + ">, <" + base + "B" + nxt + ">])"
            lines.append('def "' + n + str(i) + '"' + arcs + " {}")
    return "\\n".join(lines + ["}", "}"])
"""

# Built in an anonymous layer the child never composes, copied under a prim the job's own stage sees as
# inactive (a session-layer opinion the host does not have): the host would compose 2^24 nodes.
DIAMOND_INACTIVE = _DIAMOND_TEXT + """
from pxr import Sdf, Usd
with Usd.EditContext(stage, stage.GetSessionLayer()):
    stage.OverridePrim("/World/Bomb").SetActive(False)
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString(diamond("Bomb", 24))
Sdf.CopySpec(scratch, "/World/Bomb", stage.GetRootLayer(), "/World/Bomb")
"""

# Payloads the job's stage never loads (it unloads everything first); the host stage loads everything.
DIAMOND_UNLOADED = """
stage.Unload("/")
for i in range(25):
    for n in "AB":
        prim = stage.DefinePrim(f"/{n}{i}")
        if i < 24:
            prim.GetPayloads().AddInternalPayload(f"/A{i + 1}")
            prim.GetPayloads().AddInternalPayload(f"/B{i + 1}")
"""

# Inside a variant nobody selects: no stage composes it today, any host may select it tomorrow.
DIAMOND_VARIANT = """
from pxr import Sdf
lines = ["#usda 1.0", 'over "World"', "{", 'def "Switch" (', "variants = {", 'string mode = "off"',
         "}", 'prepend variantSets = "mode"', ")", "{", 'variantSet "mode" = {', '"off" {', "}", '"bomb" {']
for i in range(25):
    for n in "AB":
        base = "/World/Switch/"
        nxt = str(i + 1)
        arcs = "" if i == 24 else " (prepend inherits = [<" + base + "A" + nxt + ">, <" + base + "B" + nxt + ">])"
        lines.append('def "' + n + str(i) + '"' + arcs + " {}")
lines += ["}", "}", "}", "}"]
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString("\\n".join(lines))
Sdf.CopySpec(scratch, "/World/Switch", stage.GetRootLayer(), "/World/Switch")
"""

# Two jobs that are each small: the second fans out into what the first left on the host.
CHAIN_FIRST = _DIAMOND_TEXT + """
from pxr import Sdf
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString(diamond("C", 8))
Sdf.CopySpec(scratch, "/World/C", stage.GetRootLayer(), "/World/C")
"""
CHAIN_SECOND = _DIAMOND_TEXT + """
from pxr import Sdf, Usd
with Usd.EditContext(stage, stage.GetSessionLayer()):
    stage.OverridePrim("/World/D").SetActive(False)
scratch = Sdf.Layer.CreateAnonymous()
text = diamond("D", 16).replace("/World/D/A16>", "/World/C/A0>")
scratch.ImportFromString(text.replace("/World/D/B16>", "/World/C/B0>"))
Sdf.CopySpec(scratch, "/World/D", stage.GetRootLayer(), "/World/D")
"""

SIBLINGS = """
from pxr import Sdf
layer = stage.GetRootLayer()
with Sdf.ChangeBlock():
    for i in range(40000):
        Sdf.CreatePrimInLayer(layer, f"/World/S/p{i}")
"""
REDEFINE = """
stage.RemovePrim("/World/S/p0")
stage.DefinePrim("/World/S/p0", "Xform")
"""


# The object layer may already refuse building a path this deep (SandboxDenied); either refusal is right,
# and the host must survive. The forged-delta tests below reach the host's own checks directly.
_EARLY = ("DeltaRejected", "SandboxDenied")


def test_deep_relationship_target_is_refused_and_the_host_survives(tmp_path: Path) -> None:
    (res,) = _host([DEEP_TARGET], tmp_path)
    assert "path" in _refused(res, _EARLY)


def test_deep_connection_path_is_refused_and_the_host_survives(tmp_path: Path) -> None:
    (res,) = _host([DEEP_CONNECTION], tmp_path)
    assert "path" in _refused(res, _EARLY)


def test_nested_targets_past_the_delta_budget_are_refused_by_the_delta_check(tmp_path: Path) -> None:
    (res,) = _host([DEEP_TARGET.replace("range(35000)", "range(12)")], tmp_path)
    assert "target" in _refused(res)


@pytest.mark.parametrize("source", [DIAMOND_INACTIVE, DIAMOND_UNLOADED, DIAMOND_VARIANT],
                         ids=["session-inactive", "unloaded-payloads", "unselected-variant"])
def test_composition_bomb_the_child_never_composed_is_refused(source: str, tmp_path: Path) -> None:
    (res,) = _host([source], tmp_path)
    assert "prim-index nodes" in _refused(res)


def test_bomb_split_over_two_small_jobs_is_refused(tmp_path: Path) -> None:
    first, second = _host([CHAIN_FIRST, CHAIN_SECOND], tmp_path)
    assert first["status"] == "succeeded", first
    assert "prim-index nodes" in _refused(second)


def test_reordering_many_siblings_costs_the_host_about_what_creating_them_did(tmp_path: Path) -> None:
    create, redefine = _host([SIBLINGS, REDEFINE], tmp_path)
    assert create["status"] == "succeeded" and redefine["status"] == "succeeded", (create, redefine)
    # Linear: re-defining one of 40,000 siblings costs the host no more than creating all of them
    # (the quadratic re-order took ~100x longer).
    assert redefine["apply_ms"] < 3 * create["apply_ms"] + 50, (create, redefine)


# ------------------------------------------------------------------------------ a compromised child


def _nested_target(n: int) -> str:
    return "/B.r[" * n + "/D" + "].x" * n


def _forged(layer_text: str, copy: list[str], base: str = "#usda 1.0\n", **extra: Any) -> dict[str, Any]:
    wire = {"version": 1, "layer": layer_text, "copy": copy, **extra}
    (res,) = _run(_FORGED, {"wire": wire, "base": base})
    assert res["next_ok"], res
    return res


def _diamond_text(k: int, root: str = "") -> str:
    lines = ["#usda 1.0"]
    for i in range(k + 1):
        for n in "AB":
            refs = "" if i == k else f" (\n    prepend references = [<{root}/A{i + 1}>, <{root}/B{i + 1}>]\n)"
            lines.append(f'def "{n}{i}"{refs}\n{{\n}}')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shape", ["relationship", "connection", "reference"])
def test_forged_deep_paths_in_the_layer_text_never_reach_the_parser(shape: str) -> None:
    deep = _nested_target(40000)
    body = {"relationship": f"rel r = <{deep}>", "connection": f"float c.connect = <{deep}>",
            "reference": ""}[shape]
    meta = f' (\n    prepend references = <{deep}>\n)' if shape == "reference" else ""
    res = _forged(f'#usda 1.0\ndef "P"{meta}\n{{\n    {body}\n}}\n', ["/P"])
    assert not res["applied"] and res["type"] == "DeltaRejected" and res["unchanged"], res


@pytest.mark.parametrize("field", ["copy", "remove", "order"])
def test_forged_deep_path_strings_never_reach_sdf_path(field: str) -> None:
    deep = _nested_target(40000)
    extra: dict[str, Any] = {"copy": []}
    if field == "order":
        extra["order"] = {deep: ["a"]}
    else:
        extra[field] = [deep]
    res = _forged("#usda 1.0\n", **extra)
    assert not res["applied"] and res["type"] == "DeltaRejected", res


@pytest.mark.parametrize("what", ["prims", "dictionaries", "lists"])
def test_forged_deep_nesting_is_refused_before_parsing(what: str) -> None:
    n = 100_000
    if what == "prims":
        text = "#usda 1.0\n" + 'def "p" {\n' * n + "}\n" * n
    elif what == "dictionaries":
        text = "#usda 1.0\n(\n    customLayerData = {\n" + "dictionary d = {\n" * n + "}\n" * n + "}\n)\n"
    else:
        text = "#usda 1.0\n(\n    customLayerData = {\n        string[] t = " + "[" * n + "]" * n + "\n    }\n)\n"
    res = _forged(text, ["/p"] if what == "prims" else [], meta_set=[] if what == "prims" else ["customLayerData"])
    assert not res["applied"] and res["type"] == "DeltaRejected" and res["unchanged"], res


def test_forged_diamond_is_refused_without_composing_it() -> None:
    res = _forged(_diamond_text(24), ["/A0", "/B0"] + [f"/{n}{i}" for i in range(1, 25) for n in "AB"])
    assert not res["applied"] and res["type"] == "DeltaRejected" and res["unchanged"], res
    assert "prim-index nodes" in res["message"]


def test_forged_delta_fanning_into_existing_host_arcs_is_refused() -> None:
    base = _diamond_text(14, "/Lib").replace('def "', 'def "', 1)
    base = "#usda 1.0\ndef \"Lib\"\n{\n" + base.split("\n", 1)[1] + "}\n"
    top = '#usda 1.0\n' + "\n".join(
        f'def "T{i}" (\n    prepend references = [</T{i + 1}>, </X{i + 1}>]\n)\n{{\n}}\n'
        f'def "X{i}" (\n    prepend references = [</T{i + 1}>, </X{i + 1}>]\n)\n{{\n}}' for i in range(10)) + \
        '\ndef "T10" (\n    prepend references = [</Lib/A0>, </Lib/B0>]\n)\n{\n}\n' \
        'def "X10" (\n    prepend references = [</Lib/A0>, </Lib/B0>]\n)\n{\n}\n'
    copy = [f"/{n}{i}" for i in range(11) for n in "TX"]
    res = _forged(top, copy, base=base)
    assert not res["applied"] and res["type"] == "DeltaRejected" and res["unchanged"], res


def test_forged_reference_cycle_is_refused() -> None:
    text = ('#usda 1.0\ndef "A" (\n    prepend references = </B>\n)\n{\n}\n'
            'def "B" (\n    prepend inherits = </A>\n)\n{\n}\n')
    res = _forged(text, ["/A", "/B"])
    assert not res["applied"] and "cycle" in res["message"], res


# -------------------------------------------------------------------------- linear host operations


_SCALING = textwrap.dedent('''
    import json, sys, time
    from kitgate.sandbox.delta import _reorder_children, _remove_specs
    from pxr import Sdf

    def timed(n, op):
        layer = Sdf.Layer.CreateAnonymous(".usda")
        with Sdf.ChangeBlock():
            for i in range(n):
                Sdf.CreatePrimInLayer(layer, f"/W/p{i}")
        names = [f"p{i}" for i in range(n)]
        t0 = time.process_time()  # CPU time: another process on the machine does not inflate one side
        with Sdf.ChangeBlock():
            if op == "reverse":
                _reorder_children(layer, Sdf.Path("/W"), names[::-1])
            elif op == "rotate":
                _reorder_children(layer, Sdf.Path("/W"), names[1:] + names[:1])
            else:
                _remove_specs(layer, [Sdf.Path(f"/W/{x}") for x in names[::2]])
        dt = time.process_time() - t0
        kids = list(layer.GetPrimAtPath("/W").nameChildren.keys())
        want = {"reverse": names[::-1], "rotate": names[1:] + names[:1], "remove": names[1::2]}[op]
        assert kids == want, op
        return dt

    op = sys.stdin.read().strip()
    small = min(timed(4000, op) for _ in range(3))  # min of 3: the least disturbed run of each size
    big = min(timed(16000, op) for _ in range(3))
    print(json.dumps({"small": small, "big": big}))
''')


@pytest.mark.parametrize("op", ["reverse", "rotate", "remove"])
def test_reorder_and_removal_scale_linearly(op: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _SCALING], input=op, capture_output=True, text=True,
                          timeout=HOST_TIMEOUT_S, env=_python_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    # 4x the children: linear work grows ~4x, quadratic ~16x (ratio within one run, no absolute time)
    assert res["big"] < 8 * res["small"] + 0.05, res
