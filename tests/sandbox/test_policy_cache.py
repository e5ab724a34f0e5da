"""load_policy's stat cache: an unchanged policy file is not read again per claim, and a changed one is.

Files are aged with os.utime past the two-second "racily clean" window, so the cache may trust their stamps;
reads are counted (Path.read_bytes), never timed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kitgate.sandbox import policy as policy_mod
from kitgate.sandbox.policy import load_policy

MINIMAL = """
name = "{name}"
mode = "isolated"
builtins = ["len", "print"]
[limits]
timeout_s = {timeout}
cpu_s = 5.0
memory_mb = 256
output_bytes = 1000
result_bytes = 1000
source_bytes = 10000
max_lines = 100
ast_depth = 40
loop_iterations = 1000
"""


def _write(path: Path, text: str, age_s: float = 60.0) -> None:
    path.write_text(text)
    past = time.time() - age_s
    os.utime(path, (past, past))


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        seen.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    monkeypatch.setattr(policy_mod, "_STAT_CACHE", {})
    return seen


def test_unchanged_user_policy_is_read_once(tmp_path: Path, reads: list[str]) -> None:
    _write(tmp_path / "p.toml", MINIMAL.format(name="p", timeout="5.0"))
    first = load_policy("p", tmp_path)
    for _ in range(5):
        assert load_policy("p", tmp_path) is first
        assert load_policy("p", tmp_path, expect_digest=first.digest) is first
    assert reads == ["p.toml"]


def test_shipped_policy_is_read_once(reads: list[str]) -> None:
    first = load_policy("scene-edit")
    assert load_policy("scene-edit") is first and load_policy("scene-edit", expect_digest=first.digest) is first
    assert reads == ["scene-edit.toml"]


def test_changed_file_is_read_again_even_with_the_same_size_and_mtime(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "p.toml"
    _write(path, MINIMAL.format(name="p", timeout="5.0"))
    old = load_policy("p", tmp_path)
    before = path.stat()
    with path.open("r+") as f:  # rewrite in place: same inode, same size
        f.write(MINIMAL.format(name="p", timeout="4.0"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime: only ctime tells
    new = load_policy("p", tmp_path)
    assert new.digest != old.digest and new.limits.timeout_s == 4.0
    assert reads == ["p.toml", "p.toml"]
    replaced = tmp_path / "p.new"
    _write(replaced, MINIMAL.format(name="p", timeout="3.0"))
    replaced.replace(path)  # atomic replace: a new inode
    assert load_policy("p", tmp_path).limits.timeout_s == 3.0


def test_recently_written_file_is_read_on_every_load(tmp_path: Path, reads: list[str]) -> None:
    _write(tmp_path / "p.toml", MINIMAL.format(name="p", timeout="5.0"), age_s=0)
    for _ in range(3):
        load_policy("p", tmp_path)
    assert reads == ["p.toml"] * 3, "a stamp younger than the racy window is not trusted"


def test_a_claim_naming_another_digest_never_gets_the_cached_policy(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "p.toml"
    _write(path, MINIMAL.format(name="p", timeout="5.0"))
    cached = load_policy("p", tmp_path)
    # Simulate a change the stamps cannot see: the cache entry holds a policy built from other bytes.
    stale = policy_mod.parse_policy(MINIMAL.format(name="p", timeout="2.0").encode(), "p")
    key = ("p", str(tmp_path), "")
    policy_mod._STAT_CACHE[key] = (policy_mod._STAT_CACHE[key][0], stale)
    assert load_policy("p", tmp_path, expect_digest=cached.digest).digest == cached.digest
    assert reads == ["p.toml", "p.toml"]


def test_extends_reloads_when_its_base_changes_or_appears(tmp_path: Path, reads: list[str]) -> None:
    _write(tmp_path / "child.toml", 'name = "child"\nextends = "base"\n')
    _write(tmp_path / "base.toml", MINIMAL.format(name="base", timeout="5.0"))
    first = load_policy("child", tmp_path)
    assert load_policy("child", tmp_path) is first
    _write(tmp_path / "base.toml", MINIMAL.format(name="base", timeout="4.5"), age_s=30)
    second = load_policy("child", tmp_path)
    assert second.limits.timeout_s == 4.5 and second.digest != first.digest
    # A child of a shipped base: a same-named file added to the policy dir later takes over.
    (tmp_path / "kid.toml").write_text('name = "kid"\nextends = "scene-edit"\n')
    os.utime(tmp_path / "kid.toml", (time.time() - 60, time.time() - 60))
    shipped_child = load_policy("kid", tmp_path)
    assert load_policy("kid", tmp_path) is shipped_child
    scene = (Path(policy_mod.__file__).parent.parent / "policies" / "scene-edit.toml").read_text()
    _write(tmp_path / "scene-edit.toml", scene.replace("timeout_s = ", "timeout_s = 0.5 #", 1))
    assert load_policy("kid", tmp_path).digest != shipped_child.digest
