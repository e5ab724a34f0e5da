"""The policy's `[render]` caps: parsed with bounds, off by default, merged and widened like `[limits]`.

A picture is an input surface of its own (issue 17), so a policy without `[render]` allows none, every cap is
range-checked at load, and an overlay that turns pictures on or raises a cap must say so in `widens`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kitgate.protocol.render import MAX_IMAGE_BYTES, RenderAskError, error, normalise, over_caps, parse_request
from kitgate.sandbox.policy import PolicyError, RenderCaps, load_policy
from kitgate.sandbox.policy_layers import LayerError, flatten, widenings

OVERLAY = ('name = "pic"\nextends = "readonly"\ndescription = "t"\n'
           'widens = ["render.max_width", "render.max_png_bytes"]\n')  # declared, so the bounds speak


def _policy(tmp_path: Path, text: str) -> object:
    (tmp_path / "pic.toml").write_text(OVERLAY + text)
    return load_policy("pic", tmp_path)


def test_shipped_policies_allow_modest_pictures() -> None:
    for name in ("readonly", "scene-edit", "trusted"):
        caps = load_policy(name).render
        assert caps.allowed and (caps.max_width, caps.max_height, caps.max_pixels) == (1024, 1024, 1_048_576)
        assert caps.max_png_bytes <= MAX_IMAGE_BYTES
        assert load_policy(name).public_dict()["render"]["allowed"] is True


def test_no_render_table_means_no_pictures() -> None:
    assert RenderCaps().allowed is False
    assert over_caps({"width": 8, "height": 8}, RenderCaps())[0] == "this policy does not allow pictures"


@pytest.mark.parametrize(("text", "message"), [
    ("[render]\nmax_width = 9000\n", "render.max_width=9000 outside"),
    ("[render]\nmax_png_bytes = 100000000\n", "render.max_png_bytes"),
    ("[render]\ntime_s = \"20\"\n", "render.time_s must be a number"),
    ("[render]\nmax_faces = 1.5\n", "render.max_faces must be an integer"),
    ("[render]\nallowed = 1\n", "render.allowed must be true or false"),
    ("[render]\nshader = \"x\"\n", "unknown key(s) in [render]: shader"),
])
def test_bad_render_values_are_refused_at_load(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        _policy(tmp_path, text)
    assert message in str(err.value)


def test_a_narrowing_overlay_needs_no_declaration(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "[render]\nmax_width = 256\nmax_png_bytes = 2048\n")
    assert (policy.render.max_width, policy.render.max_height, policy.render.max_png_bytes) == (256, 1024, 2048)


@pytest.mark.parametrize(("base", "change", "key"), [
    ({}, {"allowed": True}, "render.allowed"),
    ({"allowed": False}, {"allowed": True}, "render.allowed"),
    ({"allowed": True, "max_width": 512}, {"max_width": 4096}, "render.max_width"),
    ({"allowed": True, "time_s": 5.0}, {"time_s": 60.0}, "render.time_s"),
])
def test_widening_the_render_caps_must_be_declared(base: dict, change: dict, key: str) -> None:
    parent = {"name": "b", "mode": "isolated", "limits": {}, **({"render": base} if base else {})}
    overlay = {"name": "o", "extends": "b", "render": change}
    with pytest.raises(LayerError) as err:
        flatten(overlay, lambda _name: parent)
    assert key in str(err.value)
    flat = flatten({**overlay, "widens": [key]}, lambda _name: parent)
    assert widenings(parent, flat) == [key] and flat["render"] == {**base, **change}


def test_the_base_render_table_is_inherited_key_by_key() -> None:
    parent = {"name": "b", "mode": "isolated", "limits": {}, "render": {"allowed": True, "max_width": 512}}
    flat = flatten({"name": "o", "extends": "b", "render": {"max_height": 128}}, lambda _name: parent)
    assert flat["render"] == {"allowed": True, "max_width": 512, "max_height": 128}
    assert flatten({"name": "o", "extends": "b"}, lambda _name: parent)["render"] == parent["render"]


@pytest.mark.parametrize("raw", [
    [], {"width": 0, "height": 8}, {"width": True, "height": 8}, {"width": 8}, {"width": 8, "height": 9000},
    {"width": 8, "height": 8, "camera": "World/Cam"}, {"width": 8, "height": 8, "camera": "/World/Cam.focalLength"},
    {"width": 8, "height": 8, "camera": "/" + "a" * 2000}, {"width": 8, "height": 8, "zoom": 2},
])
def test_malformed_requests_never_reach_a_renderer(raw: object) -> None:
    with pytest.raises(RenderAskError):
        parse_request(raw)


def test_a_result_entry_is_normalised_once_and_capped() -> None:
    assert normalise(None) is None
    assert normalise("junk") == error("RenderFailed", "the worker reported a malformed picture")
    huge = normalise({"ok": True, "png_base64": "A" * (MAX_IMAGE_BYTES * 2)})
    assert huge["ok"] is False and huge["error"]["code"] == "ImageTooLarge"
    failed = normalise({"ok": False, "error": {"code": "X" * 500, "message": "m" * 10_000}})
    assert len(failed["error"]["code"]) <= 64 and len(failed["error"]["message"]) <= 4000
    clean = normalise({"ok": True, "width": 4, "height": 4, "bytes": 10, "sha256": "z" * 64, "extra": 1})
    assert clean == {"ok": True, "width": 4, "height": 4, "bytes": 10}  # a bad hash and unknown keys are dropped
