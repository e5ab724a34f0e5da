"""Kit 108-110 run Python 3.12: compile (warnings as errors) and import the executor with a real 3.12.

Uses pyenv's 3.12 when the machine has one; the skip says so explicitly otherwise. The packaged bundle
was also self-checked under 3.12 with cp312 wheels (docs: `kitgate package-extension --wheel-dir`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import STANDIN

PY312 = Path("/root/.pyenv/versions/3.12.1/bin/python3.12")
ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "extension" / "kitgate.executor"
SRC = ROOT / "src"
WORKER_MODULES = ["runner", "handoff", "network", "outbox", "execution", "config", "verify", "transport", "state",
                  "results", "snapshot", "headless", "packaging"]

PROBE = f"""
import sys, compileall, importlib
sys.path[:0] = [{str(EXT)!r}, {str(SRC)!r}, {str(STANDIN)!r}]
for folder in ({str(EXT / "kitgate")!r}, {str(SRC / "kitgate" / "worker")!r}, {str(SRC / "kitgate" / "protocol")!r}):
    assert compileall.compile_dir(folder, quiet=1, force=True, legacy=False)
import kitgate.executor as m
assert hasattr(m, "KitgateExecutorExtension")
for mod in ["extension", "ui"]:
    importlib.import_module("kitgate.executor." + mod)
for mod in {WORKER_MODULES!r}:
    importlib.import_module("kitgate.worker." + mod)
for mod in ["status", "wire", "errors", "results", "tokens", "claims"]:
    importlib.import_module("kitgate.protocol." + mod)
print("ok", sys.version_info[:2])
"""


@pytest.mark.skipif(not PY312.exists(), reason="no CPython 3.12 on this machine (pyenv 3.12.1 expected)")
def test_executor_compiles_and_imports_on_python_312(tmp_path: Path) -> None:
    # -X pycache_prefix keeps 3.12 bytecode out of the checkout (-I ignores PYTHON* variables)
    proc = subprocess.run([str(PY312), "-I", "-X", f"pycache_prefix={tmp_path}", "-W", "error", "-c", PROBE],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ok (3, 12)" in proc.stdout
