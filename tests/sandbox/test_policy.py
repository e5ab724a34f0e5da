"""Policy loading: schema errors, digests, allow-list restrictions enforced by the loader."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
from pathlib import Path

import pytest

from kitgate.sandbox.policy import PolicyError, list_policies, load_policy, parse_policy

MINIMAL = """
name = "{name}"
mode = "isolated"
builtins = ["len", "print"]
[limits]
timeout_s = 5.0
cpu_s = 5.0
memory_mb = 256
output_bytes = 1000
result_bytes = 1000
source_bytes = 10000
max_lines = 100
ast_depth = 40
loop_iterations = 1000
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.toml").write_text(text)
    return tmp_path


def test_shipped_policies_load_with_digest_of_file_bytes() -> None:
    names = {p.name for p in list_policies()}
    assert names == {"readonly", "scene-edit", "trusted"}
    for name in names:
        policy = load_policy(name)
        data = importlib.resources.files("kitgate.policies").joinpath(f"{name}.toml").read_bytes()
        assert policy.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert load_policy("scene-edit").mode == "isolated"
    assert load_policy("readonly").mode == "isolated"
    assert load_policy("trusted").mode == "in_process"
    assert load_policy("trusted").requires_approval is True
    assert load_policy("scene-edit").requires_approval is False


def test_public_dict_is_json_and_hides_asset_paths(tmp_path: Path) -> None:
    policy = load_policy("scene-edit", asset_base=str(tmp_path))
    data = policy.public_dict()
    text = json.dumps(data)
    assert data["name"] == "scene-edit" and data["digest"] == policy.digest
    assert "pxr.Usd" in data["modules"] and "pxr.UsdUtils" not in data["modules"]
    assert str(tmp_path) not in text
    assert set(data["limits"]) == {"timeout_s", "cpu_s", "memory_mb", "output_bytes", "result_bytes",
                                   "source_bytes", "max_lines", "ast_depth", "loop_iterations"}


def test_readonly_lists_no_editing_methods() -> None:
    policy = load_policy("readonly")
    for qual in ("pxr.Usd.Stage", "pxr.Usd.Prim", "pxr.Usd.Attribute", "pxr.Sdf.Layer", "pxr.Usd.Object"):
        rule = policy.type_rule(qual)
        assert rule is not None
        bad = [n for n in rule.attributes if n.startswith(("Set", "Create", "Define", "Remove", "Clear", "Add"))]
        assert bad == [], (qual, bad)
        assert not rule.settable
    assert not policy.type_rule("pxr.UsdGeom.Mesh").allows("CreatePointsAttr")
    assert policy.type_rule("pxr.UsdGeom.Mesh").allows("GetPointsAttr")


def test_unknown_policy_and_bad_names() -> None:
    with pytest.raises(PolicyError, match="unknown policy"):
        load_policy("nope")
    with pytest.raises(PolicyError, match="invalid policy name"):
        load_policy("../scene-edit")


def test_unknown_key_rejected_with_clear_message(tmp_path: Path) -> None:
    _write(tmp_path, "p1", MINIMAL.format(name="p1") + "\n[extra]\nx = 1\n")
    with pytest.raises(PolicyError, match=r"unknown key\(s\): extra"):
        load_policy("p1", tmp_path)
    text = MINIMAL.format(name="p2").replace("loop_iterations = 1000", "loop_iterations = 1000\nfoo = 1")
    _write(tmp_path, "p2", text)
    with pytest.raises(PolicyError, match=r"unknown key\(s\) in \[limits\]: foo"):
        load_policy("p2", tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('\n[modules."pxr.UsdUtils"]\nattributes = ["StageCache"]\n', "may never be importable"),
        ('\n[modules.os]\nattributes = ["system"]\n', "may never be importable"),
        ('\n[modules."omni.usd"]\nattributes = ["get_context"]\n', "only allowed in in_process"),
        ('\n[types."pxr.Sdf.Layer"]\nattributes = ["*"]\n', "not allowed here"),
        ('\n[types."pxr.Sdf.Layer"]\nattributes = ["Export"]\n', "may never be allowed"),
        ('\n[types."pxr.Usd.Stage"]\nattributes = ["Open"]\n', "may never be allowed"),
        ('\n[types."pxr.Usd.*"]\nattributes = ["Get"]\n', "only allowed for value/schema"),
        ('\n[types."pxr.Plug.Registry"]\nattributes = ["GetAllPlugins"]\n', "may never be reachable"),
        ('\n[modules."pxr.Tf"]\nattributes = ["Fatal"]\n', "may never be allowed"),
        ('\n[types."pxr.Usd.Prim"]\nattributes = ["__class__"]\n', "invalid entry"),
    ],
)
def test_loader_refuses_dangerous_allow_lists(tmp_path: Path, extra: str, message: str) -> None:
    _write(tmp_path, "bad", MINIMAL.format(name="bad") + extra)
    with pytest.raises(PolicyError, match=message):
        load_policy("bad", tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('mode = "isolated"', 'mode = "fast"', "mode must be one of"),
        ('builtins = ["len", "print"]', 'builtins = ["len", "eval"]', "may never include: eval"),
        ('builtins = ["len", "print"]', 'builtins = ["len", "vars"]', "may never include: vars"),
        ('builtins = ["len", "print"]', 'builtins = ["len", "frobnicate"]', "unknown builtin"),
        ("memory_mb = 256", "memory_mb = 1", "outside"),
        ("memory_mb = 256", 'memory_mb = "big"', "must be an integer"),
        ("ast_depth = 40", "", "missing key"),
        ('name = "{name}"', 'name = "other"', "does not match the file name"),
    ],
)
def test_schema_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = MINIMAL.replace(old, new).format(name="p")
    _write(tmp_path, "p", text)
    with pytest.raises(PolicyError, match=message):
        load_policy("p", tmp_path)


def test_not_toml(tmp_path: Path) -> None:
    _write(tmp_path, "broken", "name = [\n")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy("broken", tmp_path)


def test_asset_roots_resolve_against_base_and_are_canonical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    text = MINIMAL.format(name="roots") + 'asset_roots = ["link", "/abs/dir"]\n'
    text = text.replace('mode = "isolated"', 'mode = "isolated"\nasset_roots = ["link", "/abs/dir"]').rsplit(
        "asset_roots", 1)[0]
    data = text.encode()
    policy = parse_policy(data, "roots", asset_base=str(tmp_path))
    assert policy.asset_roots == (str(real), "/abs/dir")
    monkeypatch.delenv("KITGATE_ASSET_ROOT", raising=False)
    assert parse_policy(data, "roots").asset_roots == ("/abs/dir",)  # no base: relative roots dropped
    with pytest.raises(PolicyError, match="must be a local path"):
        parse_policy(data.replace(b'"/abs/dir"', b'"http://x/"'), "roots")
    with pytest.raises(PolicyError, match="'/' is not allowed"):
        parse_policy(data.replace(b'"/abs/dir"', b'"/"'), "roots")


def test_asset_base_comes_from_the_caller_not_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KITGATE_ASSET_ROOT is a setting of whoever owns the configuration (controller, worker, CLI); the
    sandbox does not read it, so a variable set later in the process cannot widen a policy."""
    monkeypatch.setenv("KITGATE_ASSET_ROOT", str(tmp_path))
    assert load_policy("scene-edit").asset_roots == ()
    assert load_policy("scene-edit", asset_base=str(tmp_path)).asset_roots == (os.path.realpath(tmp_path),)
