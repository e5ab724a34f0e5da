"""`kitgate demo` from a clean directory: real controller, real headless worker, a saved .usda."""

from __future__ import annotations

import subprocess

from harness import KITGATE, clean_env


def test_demo_runs_end_to_end(tmp_path) -> None:
    proc = subprocess.run([KITGATE, "demo", "--output-dir", str(tmp_path / "out")], cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "policy_violation" in proc.stdout and "all jobs ended as expected" in proc.stdout
    scene = (tmp_path / "out" / "scene.usda").read_text()
    for prim in ("Ground", "Table", "Stool5", "Looks", "Key", "Sun"):
        assert prim in scene, prim
    assert "passwd" not in scene
