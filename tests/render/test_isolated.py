"""The real child-process path (render_layer_text): same pixels as the engine, assets confined to the root.

Why: the worker only ever calls render_layer_text, so the child's environment, limits and answer protocol
are what a job gets. Arcs in the job's layer are untrusted paths: only files under asset_base compose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kitgate.render import RenderError, RenderLimits, RenderRequest, render_layer_text, render_stage_in_process
from kitgate.render.isolated import child_environment
from render.scenes import BLUE, RED, decode, mask, mean_x, open_text, prim, red_cube_blue_sphere, stage_text

LIMITS = RenderLimits()


def test_child_draws_the_same_picture_as_the_engine() -> None:
    text = red_cube_blue_sphere()
    png = render_layer_text(text, RenderRequest(160, 120), LIMITS)
    img, rgb = decode(png)
    assert img.size == (160, 120) and mean_x(mask(rgb, 0)) < mean_x(mask(rgb, 2))
    assert png == render_stage_in_process(open_text(text), RenderRequest(160, 120), LIMITS)


def test_child_environment_inherits_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITGATE_WORKER_TOKEN", "s3cret-token")
    env = child_environment()
    assert "s3cret-token" not in repr(env) and not any(k.startswith("KITGATE") for k in env)
    assert env["MESA_SHADER_CACHE_DISABLE"] == "true"


def _asset(dir_: Path, name: str, color: tuple[int, int, int], x: float) -> Path:
    path = dir_ / name
    path.write_text(stage_text(prim("Cube", "Box", at=(x, 0, 0), color=color, body="double size = 1")))
    return path


def test_reference_inside_the_asset_root_composes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "shot").mkdir(parents=True)
    _asset(root, "red.usda", RED, -2)
    text = stage_text(prim("Sphere", "Blue", at=(2, 0, 0), color=BLUE, body="double radius = 0.5")).replace(
        '#usda 1.0\n(\n', '#usda 1.0\n(\n    subLayers = [@../red.usda@]\n')
    png = render_layer_text(text, RenderRequest(128, 96), LIMITS, asset_base=root, anchor=str(root / "shot/x.usda"))
    _, rgb = decode(png)
    assert mean_x(mask(rgb, 0)) < mean_x(mask(rgb, 2))


def test_any_of_several_roots(tmp_path: Path) -> None:
    shots, library = tmp_path / "shots", tmp_path / "library"
    shots.mkdir()
    library.mkdir()
    red = _asset(library, "red.usda", RED, -2)
    text = stage_text(prim("Sphere", "Blue", at=(2, 0, 0), color=BLUE, body="double radius = 0.5")).replace(
        '#usda 1.0\n(\n', f'#usda 1.0\n(\n    subLayers = [@{red}@]\n')
    png = render_layer_text(text, RenderRequest(96, 64), LIMITS, asset_base=(shots, library),
                            anchor=str(shots / "x.usda"))
    _, rgb = decode(png)
    assert mean_x(mask(rgb, 0)) < mean_x(mask(rgb, 2))
    with pytest.raises(RenderError) as info:
        render_layer_text(text, RenderRequest(96, 64), LIMITS, asset_base=[shots], anchor=str(shots / "x.usda"))
    assert info.value.code == "AssetRefused"


@pytest.mark.parametrize("how", ["outside", "no-base", "no-anchor", "anchor-outside", "escape-dotdot"])
def test_assets_outside_the_root_are_refused(tmp_path: Path, how: str) -> None:
    root = tmp_path / "root"
    (root / "shot").mkdir(parents=True)
    secret = _asset(tmp_path, "secret.usda", RED, 0)
    arc = {"outside": str(secret), "no-base": str(secret), "no-anchor": "../secret.usda",
           "anchor-outside": "secret.usda", "escape-dotdot": "../../secret.usda"}[how]
    base = None if how == "no-base" else root
    anchor = {"no-anchor": None, "anchor-outside": str(tmp_path / "x.usda")}.get(how, str(root / "shot/x.usda"))
    text = stage_text().replace('#usda 1.0\n(\n', f'#usda 1.0\n(\n    subLayers = [@{arc}@]\n')
    with pytest.raises(RenderError) as info:
        render_layer_text(text, RenderRequest(64, 64), LIMITS, asset_base=base, anchor=anchor)
    assert info.value.code == "AssetRefused" and info.value.hint


def test_value_clips_are_refused() -> None:
    body = 'double size = 1'
    cube = prim("Cube", "Clipped", body=body).replace('def Cube "Clipped"', 'def Cube "Clipped" (\n        clips = {\n'
                                                        '            dictionary default = {\n'
                                                        '                asset[] assetPaths = [@/etc/x.usda@]\n'
                                                        '            }\n        }\n    )')
    with pytest.raises(RenderError) as info:
        render_layer_text(stage_text(cube), RenderRequest(64, 64), LIMITS)
    assert info.value.code == "AssetRefused" and "clips" in info.value.message


def test_unparsable_layer_text() -> None:
    with pytest.raises(RenderError) as info:
        render_layer_text("#usda 1.0\ndef Xform \"A\" {{{", RenderRequest(64, 64), LIMITS)
    assert info.value.code == "RenderFailed" and "parse" in info.value.message
