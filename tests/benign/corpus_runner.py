"""Run one benign script two ways and compare: the reference is plain CPython, the subject is kitgate.

Shared by tests/benign/test_benign.py (one pytest case per script) and bench/benign_corpus.py (success
rate and guarded/plain time ratio over the whole corpus), so both judge a script by the same rules.

A script runs twice on identical starting stages: once with plain ``exec`` (globals ``stage`` and
``__name__ == "__main__"``), once through a real ``Executor`` under the given policy (``scene-edit`` is
isolated: a forked child per job, the delta applied back to the host stage). A script *matches* when
the guarded run succeeded, the exported root layers are equal and the printed output is equal.

Normalisation (both sides, and only this): ``anon:0x...`` identifiers of anonymous layers and
``0x...`` object addresses in printed output are replaced by placeholders, because they differ
between any two processes. Exported root layers are compared verbatim.

Scripts reference assets by the absolute path /tmp/kitgate-benign-assets/<name>.usda: `install_assets`
copies tests/benign/assets there, and the caller points KITGATE_ASSET_ROOT at it (the scene-edit
policy's relative asset root resolves against that variable), so both runs resolve the same files.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ASSETS_SRC = HERE / "assets"
ASSETS = Path("/tmp/kitgate-benign-assets")
BASE_USDA = """#usda 1.0
(
    defaultPrim = "World"
    metersPerUnit = 0.01
    upAxis = "Y"
)

def Xform "World"
{
    def Mesh "Ground"
    {
        int[] faceVertexCounts = [4]
        int[] faceVertexIndices = [0, 1, 2, 3]
        point3f[] points = [(-10, 0, -10), (10, 0, -10), (10, 0, 10), (-10, 0, 10)]
    }
}
"""
_ANON = re.compile(r"anon:0x[0-9a-fA-F]+")
_ADDR = re.compile(r"0x[0-9a-fA-F]{6,}")


@dataclass
class PlainRun:
    layer: str
    stdout: str
    seconds: float


@dataclass
class GuardedRun:
    status: str
    layer: str
    stdout: str
    seconds: float
    error: dict[str, Any] | None = None
    limit: str | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.py"))


def install_assets() -> Path:
    """Copy the benign assets to the fixed absolute path the scripts reference."""
    if ASSETS.exists():
        shutil.rmtree(ASSETS)
    shutil.copytree(ASSETS_SRC, ASSETS)
    return ASSETS


def normalise_output(text: str) -> str:
    return _ADDR.sub("0xADDR", _ANON.sub("anon:ADDR", text))


def fresh_stage() -> Any:
    from pxr import Usd

    stage = Usd.Stage.CreateInMemory()
    stage.GetRootLayer().ImportFromString(BASE_USDA)
    return stage


def run_plain(source: str, name: str) -> PlainRun:
    """Plain CPython exec on a plain stage: the reference result. A script that fails here is a bad case."""
    stage = fresh_stage()
    buf = io.StringIO()
    code = compile(source, name, "exec")
    started = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        exec(code, {"stage": stage, "__name__": "__main__"})  # noqa: S102 - the reference being compared to
    seconds = time.perf_counter() - started
    return PlainRun(stage.GetRootLayer().ExportToString(), buf.getvalue(), seconds)


def run_guarded(executor: Any, policy: Any, source: str) -> GuardedRun:
    """The same script through the real Executor (compile, isolated run, delta applied to the host stage)."""
    stage = fresh_stage()
    started = time.perf_counter()
    outcome = executor.run(source, policy, stage)
    seconds = time.perf_counter() - started
    violations = [v.to_dict() if hasattr(v, "to_dict") else dict(v) for v in (outcome.violations or [])]
    return GuardedRun(outcome.status, stage.GetRootLayer().ExportToString(), outcome.stdout, seconds,
                      outcome.error, outcome.limit, violations)


def mismatch(plain: PlainRun, guarded: GuardedRun) -> str | None:
    """None when the guarded run did exactly what plain Python did; else a one-line reason."""
    if guarded.status != "succeeded":
        return f"{guarded.status}: {failure_summary(guarded)}"
    if guarded.layer != plain.layer:
        return "resulting root layer differs from plain exec"
    if normalise_output(guarded.stdout) != normalise_output(plain.stdout):
        return "printed output differs from plain exec"
    return None


def failure_summary(guarded: GuardedRun) -> str:
    """Rule and message of a refusal or failure, as a user would read them."""
    if guarded.violations:
        return "; ".join(
            f"line {v.get('line')} [{v.get('rule')}] {v.get('message')}" + (f" (hint: {v['hint']})" if v.get("hint")
                                                                            else "")
            for v in guarded.violations[:3]
        )
    err = guarded.error or {}
    text = f"{err.get('type', 'Error')} at line {err.get('line')}: {err.get('message', '')}"
    if guarded.limit:
        text = f"limit {guarded.limit}; {text}"
    return text
