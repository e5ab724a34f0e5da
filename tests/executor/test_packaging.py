"""`kitgate package-extension`: a self-contained folder/zip Kit could load, without [python.pipapi]."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest
from harness import run_kitgate
from kitgate.executor.packaging import PackagingError, _unpack_wheel


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
    for rel in ("docs/README.md", "docs/CHANGELOG.md", "kitgate/executor/extension.py", "kitgate/executor/runner.py",
                "pip_prebundle/kitgate/sandbox/executor.py", "pip_prebundle/RestrictedPython/__init__.py",
                "pip_prebundle/jwt/__init__.py", "pip_prebundle/BUNDLE.txt"):
        assert (ext / rel).is_file(), rel
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
