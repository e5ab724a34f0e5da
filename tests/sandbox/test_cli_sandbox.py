"""`kitgate run | validate | policy test` as real processes (the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pxr import Usd

KITGATE = [sys.executable, "-c", "from kitgate.cli import main; main()"]


def kitgate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KITGATE, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_run_creates_stage_only_with_save(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text('from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, "/Box")\nprint("made")\nresult = 42\n')
    stage_path = tmp_path / "scene.usda"

    proc = kitgate("run", str(script), "--stage", str(stage_path), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "succeeded" and out["result"] == 42 and out["stdout"] == "made\n"
    assert out["changes"] == ["/Box"] and out["error"] is None
    assert not stage_path.exists()  # no --save: nothing written

    proc = kitgate("run", str(script), "--stage", str(stage_path), "--save")
    assert proc.returncode == 0, proc.stderr
    assert "status: succeeded" in proc.stdout and "result: 42" in proc.stdout
    assert Usd.Stage.Open(str(stage_path)).GetPrimAtPath("/Box").GetTypeName() == "Cube"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # temp file renamed away


def test_run_failure_exits_1_and_does_not_save(tmp_path: Path) -> None:
    stage_path = tmp_path / "scene.usda"
    st = Usd.Stage.CreateNew(str(stage_path))
    st.DefinePrim("/Keep")
    st.Save()
    before = stage_path.read_bytes()
    script = tmp_path / "bad.py"
    script.write_text('stage.RemovePrim("/Keep")\nraise ValueError("nope")\n')
    proc = kitgate("run", str(script), "--stage", str(stage_path), "--save", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "failed" and out["error"]["type"] == "ValueError" and out["error"]["line"] == 2
    assert stage_path.read_bytes() == before


def test_run_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = kitgate("run", str(tmp_path / "missing.py"), "--stage", str(tmp_path / "s.usda"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (3 * 1024 * 1024))
    proc = kitgate("validate", str(big))
    assert proc.returncode == 2 and "larger than" in proc.stderr
    ok = tmp_path / "ok.py"
    ok.write_text("x = 1\n")
    proc = kitgate("validate", str(ok), "--policy", "no-such-policy")
    assert proc.returncode == 2 and "unknown policy" in proc.stderr


def test_validate_reports_violations_with_location_and_hint(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text('from pxr import Sdf\np = Sdf.Path("/World")\n')
    assert kitgate("validate", str(good)).returncode == 0
    bad = tmp_path / "bad.py"
    bad.write_text('x = 1\nf = open("/etc/passwd")\n')
    proc = kitgate("validate", str(bad))
    assert proc.returncode == 1
    line = proc.stdout.strip().splitlines()[0]
    assert line.startswith(f"{bad}:2:") and "(" in line and line.endswith(")")
    proc = kitgate("validate", str(bad), "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data["ok"] is False and data["violations"][0]["line"] == 2


CORPUS = {
    "accept_prim.py": '# expect: accept\nstage.DefinePrim("/A")\n',
    "compile_open.py": '# expect: reject-at-compile\nopen("/etc/passwd")\n',
    "runtime_asset.py": "# expect: reject-at-runtime\n"
    'stage.DefinePrim("/R").GetReferences().AddReference("/etc/passwd")\n',
    "limit_alloc.py": "# expect: limit\nx = 'A' * 10**10\n",
    "readonly_edit.py": '# expect: accept\n# policy: readonly\nn = len(list(stage.Traverse()))\n',
}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    for name, text in CORPUS.items():
        (d / name).write_text(text)
    return d


def test_policy_test_passes_a_correct_corpus_and_fails_a_wrong_one(corpus: Path) -> None:
    proc = kitgate("policy", "test", str(corpus))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len([ln for ln in lines if ln.startswith("PASS ")]) == len(CORPUS)
    assert lines[-1] == f"{len(CORPUS)} files: {len(CORPUS)} passed, 0 failed"

    (corpus / "wrong.py").write_text("# expect: reject-at-compile\nx = 1\n")
    (corpus / "no_header.py").write_text("x = 1\n")
    proc = kitgate("policy", "test", str(corpus))
    assert proc.returncode == 1
    assert "FAIL wrong.py [scene-edit] expect=reject-at-compile got=accept" in proc.stdout
    assert "FAIL no_header.py" in proc.stdout
