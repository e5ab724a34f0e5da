"""`kitgate run --stage` mistakes are reported before the script runs; `--save` keeps the file's mode.

Why: a stage path in a folder that does not exist ran the script, then failed to save with a traceback;
and the atomic save (a private temp file renamed over the stage) left a 0640 stage as 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pxr import Usd

KITGATE = [sys.executable, "-c", "from kitgate.cli import main; main()"]
SCRIPT = 'from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, "/Box")\nprint("the script ran")\nresult = 1\n'


def kitgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KITGATE, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("extra", [["--save"], [], ["--save", "--json"]], ids=["save", "no-save", "save-json"])
def test_a_stage_in_a_missing_folder_is_refused_before_the_script_runs(tmp_path: Path, extra: list[str]) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    missing = tmp_path / "no" / "such" / "folder"
    proc = kitgate("run", str(script), "--stage", str(missing / "scene.usda"), *extra)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "the script ran" not in proc.stdout + proc.stderr
    assert proc.stdout == ""  # nothing ran, so there is no result to print
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(missing) in lines[0] and "does not exist" in lines[0] and "mkdir -p" in lines[0], lines[0]
    assert not (tmp_path / "no").exists()


def test_a_stage_path_under_a_file_is_refused_before_the_script_runs(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    proc = kitgate("run", str(script), "--stage", str(script / "scene.usda"), "--save")
    assert proc.returncode == 2 and proc.stdout == "", (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "not a folder" in proc.stderr, proc.stderr


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o664])
def test_save_keeps_the_stage_files_mode(tmp_path: Path, mode: int) -> None:
    stage_path = tmp_path / "scene.usda"
    Usd.Stage.CreateNew(str(stage_path)).Save()
    os.chmod(stage_path, mode)
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    proc = kitgate("run", str(script), "--stage", str(stage_path), "--save", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["saved"] is True
    assert Usd.Stage.Open(str(stage_path)).GetPrimAtPath("/Box").IsValid()
    assert stat.S_IMODE(stage_path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_new_stage_gets_the_umask_mode(tmp_path: Path) -> None:
    """A stage created by --save is an ordinary new file (0666 minus the umask), not a private temp file."""
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    stage_path = tmp_path / "new.usda"
    proc = subprocess.run(["sh", "-c", 'umask 027; exec "$@"', "sh", *KITGATE, "run", str(script), "--stage",
                           str(stage_path), "--save"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(stage_path.stat().st_mode) == 0o640
