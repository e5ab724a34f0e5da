"""`kitgate package-extension`: a self-contained folder/zip Kit could load, without [python.pipapi]."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest
from harness import run_kitgate

from kitgate.worker.packaging import PackagingError, _unpack_wheel


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pkg")
    proc = run_kitgate(["package-extension", "--output", str(out), "--zip"], timeout=180)
    assert "extension folder" in proc.stdout
    return out


def test_folder_layout_and_manifest(built: Path) -> None:
    ext = built / "kitgate.executor"
    toml = tomllib.loads((ext / "config" / "extension.toml").read_text())
    assert "pipapi" not in toml.get("python", {})
    modules = toml["python"]["module"]
    assert modules[0] == {"path": "pip_prebundle"}  # vendored packages on sys.path first
    assert {"name": "kitgate.executor"} in modules
    settings = toml["settings"]["exts"]["kitgate.executor"]
    assert {"controller_url", "token_file", "poll_wait_s", "labels", "enabled_on_start", "frame_budget_ms",
            "python"} <= set(settings)
    assert set(toml["settings"]) == {"exts"}  # nothing lands elsewhere in the global settings tree
    assert "omni.usd" in toml["dependencies"] and toml["dependencies"]["omni.kit.uiapp"] == {"optional": True}
    for rel in ("docs/README.md", "docs/CHANGELOG.md", "kitgate/executor/extension.py", "kitgate/executor/ui.py",
                "pip_prebundle/kitgate/worker/runner.py", "pip_prebundle/kitgate/worker/headless.py",
                "pip_prebundle/kitgate/protocol/claims.py", "pip_prebundle/kitgate/protocol/status.py",
                "pip_prebundle/kitgate/sandbox/executor.py", "pip_prebundle/RestrictedPython/__init__.py",
                "pip_prebundle/jwt/__init__.py", "pip_prebundle/BUNDLE.txt"):
        assert (ext / rel).is_file(), rel
    # the extension folder keeps only what Kit needs; the worker it drives is in the bundle
    kit_modules = {p.name for p in (ext / "kitgate" / "executor").glob("*.py")}
    assert kit_modules == {"__init__.py", "extension.py", "ui.py", "capture.py"}, kit_modules
    assert list((ext / "pip_prebundle" / "kitgate" / "policies").glob("*.toml")) or \
        (ext / "pip_prebundle" / "kitgate" / "policies" / "__init__.py").is_file()
    # namespace folders stay namespace folders (an __init__ would shadow other kitgate.* packages)
    assert not (ext / "kitgate" / "__init__.py").exists()
    assert not (ext / "pip_prebundle" / "kitgate" / "__init__.py").exists()
    assert not list(ext.rglob("__pycache__"))


def test_zip_mirrors_the_folder(built: Path) -> None:
    ext = built / "kitgate.executor"
    (archive,) = built.glob("kitgate.executor-*.zip")
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    files = {f"kitgate.executor/{p.relative_to(ext)}" for p in ext.rglob("*") if p.is_file()}
    assert names == files


def test_wheel_members_cannot_escape_the_bundle(tmp_path: Path) -> None:
    evil = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.py", "x = 1\n")
    with pytest.raises(PackagingError, match="escapes"):
        _unpack_wheel(evil, tmp_path / "bundle")
    assert not (tmp_path.parent / "outside.py").exists()


# ------------------------------------------------------------------ one bundle per Kit Python

def _python312() -> str | None:
    import shutil

    for candidate in ("/root/.pyenv/versions/3.12.1/bin/python3.12", shutil.which("python3.12")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


PY312 = _python312()
NO_312 = "no CPython 3.12 interpreter (pyenv 3.12.1 or python3.12 on PATH): the cp312 bundle cannot be self-checked"


def test_the_bundle_declares_its_kit_python_and_platform(built: Path) -> None:
    import sys

    toml = tomllib.loads((built / "kitgate.executor" / "config" / "extension.toml").read_text())
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert toml["package"]["target"] == {"platform": ["linux-x86_64"], "python": [tag]}
    (archive,) = built.glob("kitgate.executor-*.zip")
    assert archive.name.endswith(f"+linux-x86_64.{tag}.zip")


@pytest.fixture(scope="module")
def cp312_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cp312 wheels of exactly the versions installed here, from the package index (pip's own client)."""
    import importlib.metadata as md
    import subprocess
    import sys

    if PY312 is None:
        pytest.skip(NO_312)
    wheels = tmp_path_factory.mktemp("wheels312")
    pins = [f"{d}=={md.version(d)}" for d in ("cryptography", "cffi", "PyJWT", "RestrictedPython", "pycparser")]
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps",
                           "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux2014_x86_64",
                           "-d", str(wheels), *pins], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return wheels


def test_a_cp312_bundle_passes_its_self_check_under_python_312(cp312_wheels: Path, tmp_path: Path) -> None:
    from kitgate.worker.packaging import build_extension

    assert PY312 is not None
    folder, _ = build_extension(tmp_path / "out", wheel_dir=cp312_wheels, check_python=PY312)  # self-checks
    toml = tomllib.loads((folder / "config" / "extension.toml").read_text())
    assert toml["package"]["target"]["python"] == ["cp312"]
    assert list((folder / "pip_prebundle").glob("_cffi_backend.cpython-312-*.so"))
    assert "cp312" in (folder / "pip_prebundle" / "BUNDLE.txt").read_text()


@pytest.mark.skipif(PY312 is None, reason=NO_312)
def test_a_bundle_for_one_python_does_not_serve_the_other(built: Path) -> None:
    """Why one build per Kit Python: this environment's bundle (cp311 _cffi_backend) fails under 3.12,
    and the packager refuses to label a copied bundle for another Python."""
    from kitgate.worker.packaging import _self_check, build_extension

    assert PY312 is not None
    assert not _self_check(built / "kitgate.executor" / "pip_prebundle", PY312, quiet=True)
    with pytest.raises(PackagingError, match="--wheel-dir"):
        build_extension(built / "never", check_python=PY312)


def test_the_bundle_serves_worker_protocol_and_sandbox_to_the_kit_binding(built: Path) -> None:
    """With the Kit stand-in and the built folder first on sys.path (as Kit puts them), the binding imports and
    kitgate.worker, kitgate.protocol and kitgate.sandbox come from pip_prebundle, not from this checkout."""
    import subprocess
    import sys

    from kitgate.worker.packaging import BUNDLED_PACKAGES

    from .conftest import STANDIN

    ext = built / "kitgate.executor"
    bundle = ext / "pip_prebundle"
    probe = f"""
import sys, importlib
sys.path[:0] = [{str(bundle)!r}, {str(ext)!r}, {str(STANDIN)!r}]
import kitgate.executor as binding
assert hasattr(binding, "KitgateExecutorExtension"), "the IExt is not re-exported under the stand-in"
import kitgate.executor.extension, kitgate.worker.runner, kitgate.worker.headless, kitgate.protocol.claims
import kitgate.sandbox.executor, kitgate.sandbox.policy
for name in {list(BUNDLED_PACKAGES)!r} + ["kitgate.executor"]:
    print(name, importlib.import_module(name).__spec__.submodule_search_locations[0])
"""
    proc = subprocess.run([sys.executable, "-I", "-B", "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    where = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert {"kitgate.worker", "kitgate.protocol", "kitgate.sandbox"} <= set(where)
    for name in BUNDLED_PACKAGES:
        assert where[name].startswith(str(bundle)), (name, where[name])
    assert where["kitgate.executor"] == str(ext / "kitgate" / "executor")
