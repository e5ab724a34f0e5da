"""Policies as base + overlays: the shipped flat files are exactly what `make policies` generates, an
overlay cannot widen what its base forbids without saying so, and user policies may `extends` a shipped one.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kitgate.sandbox.policy import PolicyError, load_policy
from kitgate.sandbox.policy_layers import LayerError, build_shipped, emit, flatten, merge, widenings

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "kitgate" / "policies" / "sources"
SHIPPED = REPO / "src" / "kitgate" / "policies"


def _raw(name: str) -> dict:
    return tomllib.loads((SHIPPED / f"{name}.toml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------ regeneration
def test_regenerating_the_shipped_policies_changes_no_byte() -> None:
    built = build_shipped(SRC)
    assert sorted(built) == ["readonly", "scene-edit", "trusted"]
    for name, text in built.items():
        shipped = (SHIPPED / f"{name}.toml").read_text(encoding="utf-8")
        assert text == shipped, f"policies/{name}.toml differs from its sources: run `make policies`"


def test_make_policies_entry_point_writes_nothing_when_up_to_date(tmp_path: Path) -> None:
    for p in SHIPPED.glob("*.toml"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    out = subprocess.run([sys.executable, "-m", "kitgate.sandbox.policy_layers", str(SRC), str(tmp_path)],
                         capture_output=True, text=True, check=True)
    assert "up to date" in out.stdout
    (tmp_path / "trusted.toml").write_text("stale\n")
    out = subprocess.run([sys.executable, "-m", "kitgate.sandbox.policy_layers", str(SRC), str(tmp_path)],
                         capture_output=True, text=True, check=True)
    assert "trusted.toml" in out.stdout
    assert (tmp_path / "trusted.toml").read_bytes() == (SHIPPED / "trusted.toml").read_bytes()


def test_shipped_policies_are_one_surface() -> None:
    """readonly's read surface is inside scene-edit's, and scene-edit's inside trusted's (no copies drifting)."""
    ro, se, tr = (load_policy(n) for n in ("readonly", "scene-edit", "trusted"))
    assert ro.read_only and not se.read_only and not tr.read_only
    for small, big in ((ro, se), (se, tr)):
        for mod, rule in small.modules.items():
            if mod in big.modules:
                assert rule.attributes <= big.modules[mod].attributes, mod
        for qual, rule in small.types.items():
            if qual in big.types:
                assert rule.attributes <= big.types[qual].attributes, qual


# ------------------------------------------------------------------------------------------- overlays
def test_overlay_union_keeps_base_order_and_remove_narrows() -> None:
    base = {"name": "b", "mode": "isolated", "builtins": ["len", "abs"], "limits": {"timeout_s": 5.0},
            "modules": {"math": {"attributes": ["pi", "sqrt"]}}}
    overlay = {"name": "o", "extends": "b", "builtins": ["min", "len"],
               "modules": {"math": {"attributes": ["tau"]}, "random": {"attributes": ["random"]}},
               "remove": {"modules": {"math": {"attributes": ["sqrt"]}}}}
    flat = merge(base, overlay)
    assert flat["builtins"] == ["len", "abs", "min"]
    assert flat["modules"]["math"]["attributes"] == ["pi", "tau"]
    assert flat["modules"]["random"]["attributes"] == ["random"]


def test_removing_every_name_drops_the_module() -> None:
    base = {"name": "b", "modules": {"re": {"attributes": ["compile"]}}}
    flat = merge(base, {"name": "o", "remove": {"modules": {"re": {"attributes": ["compile"]}}}})
    assert "re" not in flat["modules"]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"read_only": False}, "read_only"),
        ({"mode": "in_process"}, "mode"),
        ({"requires_approval": False}, "requires_approval"),
        ({"limits": {"memory_mb": 4096}}, "limits.memory_mb"),
        ({"asset_roots": ["/srv/other"]}, "asset_roots"),
        ({"builtins": ["hasattr"]}, "builtins"),
    ],
)
def test_overlay_that_widens_what_its_base_forbids_fails_unless_declared(change: dict, key: str) -> None:
    base = {"name": "b", "mode": "isolated", "read_only": True, "requires_approval": True,
            "asset_roots": ["."], "builtins": ["len"], "limits": {"memory_mb": 512}}
    overlay = {"name": "o", "extends": "b", **change}
    with pytest.raises(LayerError) as err:
        flatten(overlay, lambda _name: base)
    assert key in str(err.value) and "widens" in str(err.value)
    flat = flatten({**overlay, "widens": [key]}, lambda _name: base)
    assert widenings(base, flat) == [key]


def test_narrowing_needs_no_declaration() -> None:
    base = {"name": "b", "mode": "in_process", "read_only": False, "requires_approval": False,
            "builtins": ["len", "abs"], "limits": {"memory_mb": 512}}
    overlay = {"name": "o", "extends": "b", "mode": "isolated", "read_only": True, "requires_approval": True,
               "limits": {"memory_mb": 256}, "remove": {"builtins": ["abs"]}}
    flat = flatten(overlay, lambda _name: base)
    assert flat["builtins"] == ["len"] and flat["read_only"] is True


def test_shipped_overlays_declare_their_widenings() -> None:
    def load(stem: str) -> dict:
        return tomllib.loads((SRC / f"{stem}.toml").read_text(encoding="utf-8"))

    for stem in ("scene-edit", "trusted"):
        raw = load(stem)
        found = widenings(flatten(load(raw["extends"]), load), flatten(raw, load))
        assert found, stem  # each shipped overlay widens something, and says so
        assert set(found) <= set(raw.get("widens", []))


def test_extends_cycle_is_refused() -> None:
    def load(name: str) -> dict:
        return {"name": name, "extends": "a" if name == "b" else "b"}

    with pytest.raises(LayerError, match="deeper"):
        flatten({"name": "x", "extends": "a"}, load)


def test_emit_round_trips_through_toml() -> None:
    flat = _raw("trusted")
    assert tomllib.loads(emit(flat)) == flat


# ------------------------------------------------------------------------------------- user policies
def test_user_policy_extends_a_shipped_one_and_is_digested_flattened(tmp_path: Path) -> None:
    (tmp_path / "layout-only.toml").write_text(
        'name = "layout-only"\nextends = "scene-edit"\ndescription = "no physics"\n'
        '[limits]\ntimeout_s = 5.0\n'
        '[remove.modules."pxr.UsdPhysics"]\nattributes = ["RigidBodyAPI"]\n'
    )
    pol = load_policy("layout-only", tmp_path)
    base = load_policy("scene-edit")
    assert pol.limits.timeout_s == 5.0 and pol.mode == base.mode
    assert "RigidBodyAPI" not in pol.modules["pxr.UsdPhysics"].attributes
    assert pol.modules["pxr.Usd"].attributes == base.modules["pxr.Usd"].attributes
    assert pol.digest == "sha256:" + hashlib.sha256(pol.source.encode("utf-8")).hexdigest()
    assert "extends =" not in pol.source and 'name = "layout-only"' in pol.source
    assert load_policy("layout-only", tmp_path).digest == pol.digest  # deterministic


def test_user_policy_that_widens_undeclared_is_refused_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "wide.toml").write_text('name = "wide"\nextends = "scene-edit"\nmode = "in_process"\n')
    with pytest.raises(PolicyError) as err:
        load_policy("wide", tmp_path)
    assert "widens" in str(err.value) and "mode" in str(err.value)


def test_user_policy_extending_an_unknown_base_is_refused(tmp_path: Path) -> None:
    (tmp_path / "orphan.toml").write_text('name = "orphan"\nextends = "no-such-policy"\n')
    with pytest.raises(PolicyError, match="no-such-policy"):
        load_policy("orphan", tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        'builtins = "len"',
        'limits = 5',
        'modules = 3',
        '[modules."math"]\nattributes = "pi"',
        '[modules]\nmath = ["pi"]',
        '[types."pxr.Usd.Prim"]\nsettable = [1, 2]',
        'remove = ["builtins"]',
        '[remove]\nmodules = ["math"]',
        '[remove.modules]\nmath = "pi"',
        'widens = "mode"',
        'extends = 5',
    ],
)
def test_malformed_overlay_is_a_policy_error_not_a_crash(tmp_path: Path, body: str) -> None:
    """A user overlay of the wrong shape gets one clear PolicyError naming the key, never a TypeError."""
    head = 'name = "bad"\n' + ('' if body.startswith("extends") else 'extends = "scene-edit"\n')
    (tmp_path / "bad.toml").write_text(head + body + "\n")
    with pytest.raises(PolicyError) as err:
        load_policy("bad", tmp_path)
    assert "bad" in str(err.value)


def test_malformed_base_in_the_policy_dir_is_a_policy_error(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('name = "base"\nmode = "isolated"\nmodules = 3\n')
    (tmp_path / "child.toml").write_text('name = "child"\nextends = "base"\n')
    with pytest.raises(PolicyError, match="modules"):
        load_policy("child", tmp_path)
