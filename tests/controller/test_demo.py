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
    # the picture of the scene, next to it: drawn by the worker's renderer, served by the controller
    from PIL import Image

    picture = Image.open(tmp_path / "out" / "scene.png")
    assert picture.format == "PNG" and picture.size == (800, 600)
    colors = picture.convert("RGB").getcolors(1 << 20)
    assert colors is not None and len(colors) > 20  # not blank
    assert "picture written to" in proc.stdout
