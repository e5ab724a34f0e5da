"""Pixels of known scenes, drawn by the real engine (moderngl on Mesa's llvmpipe) and decoded by Pillow.

Why in-process: these check what the engine draws; test_isolated.py and test_bombs.py run the same engine
through the real child process. Every assertion is about pixels: size, not blank, where the red and
blue surfaces are, and that the picture follows the scene and the camera.
"""

from __future__ import annotations

import numpy as np
import pytest

from kitgate.render import RenderError, RenderLimits, RenderRequest, render_stage_in_process
from render.scenes import (
    BLUE,
    GREEN,
    RED,
    camera,
    decode,
    mask,
    mean_x,
    open_text,
    prim,
    red_cube_blue_sphere,
    stage_text,
)

LIMITS = RenderLimits()


def render(text: str, width: int = 256, height: int = 192, cam: str | None = None) -> bytes:
    return render_stage_in_process(open_text(text), RenderRequest(width, height, cam), LIMITS)


def test_red_cube_left_of_blue_sphere() -> None:
    png = render(red_cube_blue_sphere(), 256, 192)
    img, rgb = decode(png)
    assert img.format == "PNG" and img.size == (256, 192)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20, "the picture is (nearly) blank"
    red, blue = mask(rgb, 0), mask(rgb, 2)
    assert red.sum() > 300 and blue.sum() > 300
    assert mean_x(red) < 256 / 2 < mean_x(blue)
    assert np.nonzero(red)[1].max() < np.nonzero(blue)[1].min(), "some red pixel is right of a blue one"


def test_picture_changes_with_the_scene() -> None:
    before = render(red_cube_blue_sphere())
    after_text = red_cube_blue_sphere().replace("(0, 0, 1)", "(0, 1, 0)")  # the sphere turns green
    after = render(after_text)
    assert before != after
    _, rgb = decode(after)
    assert mask(rgb, 1).sum() > 300 and mask(rgb, 2).sum() == 0
    moved = render(red_cube_blue_sphere().replace("(1.5, 0, 0)", "(1.5, 1.5, 0)"))
    _, rgb_moved = decode(moved)
    _, rgb_before = decode(before)
    assert np.nonzero(mask(rgb_moved, 2))[0].mean() < np.nonzero(mask(rgb_before, 2))[0].mean()  # moved up


@pytest.mark.parametrize("size", [(64, 48), (200, 300), (301, 17)])
def test_the_asked_size(size: tuple[int, int]) -> None:
    img, rgb = decode(render(red_cube_blue_sphere(), *size))
    assert img.size == size and rgb.shape == (size[1], size[0], 3)


def test_named_camera_is_used_not_auto_framing() -> None:
    front = camera("Front", (0, 0, 8))
    behind = camera("Behind", (0, 0, -8), rotate_y=180)
    text = red_cube_blue_sphere(extra=front + "\n" + behind)
    auto = render(text)
    _, rgb_front = decode(render(text, cam="/World/Front"))
    _, rgb_behind = decode(render(text, cam="/World/Behind"))
    assert render(text, cam="/World/Front") != auto
    assert mean_x(mask(rgb_front, 0)) < mean_x(mask(rgb_front, 2))
    assert mean_x(mask(rgb_behind, 0)) > mean_x(mask(rgb_behind, 2)), "from behind, red must be on the right"


@pytest.mark.parametrize("path, why", [("/World/Nope", "there is no prim"), ("/World/Red", "not a Camera")])
def test_bad_camera(path: str, why: str) -> None:
    with pytest.raises(RenderError) as info:
        render(red_cube_blue_sphere(), cam=path)
    assert info.value.code == "BadCamera" and why in info.value.message and info.value.hint


def test_z_up_stage_is_framed_with_z_up() -> None:
    _, rgb = decode(render(red_cube_blue_sphere(up="Z")))
    assert mean_x(mask(rgb, 0)) < mean_x(mask(rgb, 2))


def test_bound_preview_surface_color_wins_over_display_color() -> None:
    material = """
    def Material "Green"
    {
        token outputs:surface.connect = </World/Green/Surface.outputs:surface>
        def Shader "Surface"
        {
            uniform token info:id = "UsdPreviewSurface"
            color3f inputs:diffuseColor = (0, 1, 0)
            token outputs:surface
        }
    }"""
    cube = prim("Cube", "Box", color=RED, body='prepend apiSchemas = ["MaterialBindingAPI"]\n'
                'rel material:binding = </World/Green>\ndouble size = 2').replace(
        'def Cube "Box"', 'def Cube "Box" (\n        prepend apiSchemas = ["MaterialBindingAPI"]\n    )')
    cube = cube.replace('    prepend apiSchemas = ["MaterialBindingAPI"]\n        rel', "    rel")
    _, rgb = decode(render(stage_text(material, cube)))
    assert mask(rgb, 1).sum() > 500 and mask(rgb, 0).sum() == 0


@pytest.mark.parametrize("kind, body", [
    ("Cylinder", 'double radius = 0.5\ndouble height = 2\nuniform token axis = "X"'),
    ("Cone", 'double radius = 0.5\ndouble height = 2\nuniform token axis = "Y"'),
    ("Capsule", 'double radius = 0.4\ndouble height = 1\nuniform token axis = "Z"'),
    ("Sphere", "double radius = 3"),
    ("Cube", "double size = 0.01"),
])
def test_each_implicit_shape_draws(kind: str, body: str) -> None:
    _, rgb = decode(render(stage_text(prim(kind, "Shape", color=RED, body=body))))
    assert mask(rgb, 0).sum() > 1000, f"{kind} drew too little"


def test_polygon_mesh_with_face_colors() -> None:
    # a quad (red) left and a pentagon (blue) right, in the XY plane, uniform displayColor
    body = """
int[] faceVertexCounts = [4, 5]
int[] faceVertexIndices = [0, 1, 2, 3, 4, 5, 6, 7, 8]
point3f[] points = [(-3, -1, 0), (-1, -1, 0), (-1, 1, 0), (-3, 1, 0),
                    (1, -1, 0), (3, -1, 0), (3.5, 0.5, 0), (2, 1.5, 0), (0.5, 0.5, 0)]
color3f[] primvars:displayColor = [(1, 0, 0), (0, 0, 1)] (
    interpolation = "uniform"
)"""
    _, rgb = decode(render(stage_text(prim("Mesh", "Poly", body=body))))
    red, blue = mask(rgb, 0), mask(rgb, 2)
    assert red.sum() > 500 and blue.sum() > 500 and mean_x(red) < mean_x(blue)


def test_point_instancer_draws_its_prototypes_per_instance() -> None:
    body = """
rel prototypes = [</World/Inst/Protos/R>, </World/Inst/Protos/B>]
int[] protoIndices = [0, 0, 1, 1]
point3f[] positions = [(-4, 0, 0), (-3, 1, 0), (3, 0, 0), (4, 1, 0)]"""
    protos = ('    def Scope "Protos"\n    {\n'
              + prim("Cube", "R", color=RED, body="double size = 0.8", indent="        ") + "\n"
              + prim("Sphere", "B", color=BLUE, body="double radius = 0.5", indent="        ") + "\n    }")
    inst = prim("PointInstancer", "Inst", body=body).rstrip("}").rstrip() + "\n" + protos + "\n    }"
    _, rgb = decode(render(stage_text(inst)))
    red, blue = mask(rgb, 0), mask(rgb, 2)
    assert red.sum() > 300 and blue.sum() > 300 and np.nonzero(red)[1].max() < np.nonzero(blue)[1].min()


def test_invisible_prims_are_not_drawn() -> None:
    hidden = 'double radius = 0.6\n        token visibility = "invisible"'
    text = red_cube_blue_sphere().replace("double radius = 0.6", hidden)
    _, rgb = decode(render(text))
    assert mask(rgb, 0).sum() > 300 and mask(rgb, 2).sum() == 0


def test_skipped_prims_are_named_in_the_png() -> None:
    bad = prim("Cube", "Bad", at=(float("nan"), 0, 0), color=GREEN, body="double size = 1")
    img, rgb = decode(render(red_cube_blue_sphere(extra=bad.replace("nan", "nan"))))
    assert "/World/Bad" in img.info.get("Comment", "") and "NaN" in img.info["Comment"]
    assert mask(rgb, 0).sum() > 300 and mask(rgb, 1).sum() == 0


def test_request_checked_before_any_work() -> None:
    with pytest.raises(RenderError) as info:
        render_stage_in_process(open_text(red_cube_blue_sphere()), RenderRequest(4096, 4096), LIMITS)
    assert info.value.code == "RenderTooLarge" and "2,048" in info.value.message
    with pytest.raises(RenderError) as info:
        render_stage_in_process(open_text(red_cube_blue_sphere()), RenderRequest(0, 10), LIMITS)
    assert info.value.code == "BadRequest"
    with pytest.raises(RenderError) as info:
        render_stage_in_process(open_text(red_cube_blue_sphere()), RenderRequest(10, 10, "World/../x"), LIMITS)
    assert info.value.code == "BadRequest"


def test_shapes_drawn_coarse_only_when_the_scene_is_heavy() -> None:
    from kitgate.render import shapes
    from kitgate.render.scene import plan_scene

    def spheres(n: int) -> str:
        return stage_text(*(prim("Sphere", f"S{i}", at=(i, 0, 0), body="double radius = 0.4") for i in range(n)))

    light = plan_scene(open_text(spheres(10)), LIMITS)
    assert light.detail == "fine" and light.triangles == 10 * shapes.triangle_count("Sphere", "fine")
    n = shapes.FINE_BUDGET // shapes.triangle_count("Sphere", "fine") + 1
    heavy = plan_scene(open_text(spheres(n)), LIMITS)
    assert heavy.detail == "coarse" and heavy.triangles == n * shapes.triangle_count("Sphere", "coarse")
    _, rgb = decode(render_stage_in_process(open_text(spheres(n)), RenderRequest(64, 64), LIMITS))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 5


def test_each_instance_keeps_its_own_place_size_axis_and_color() -> None:
    # one draw call per shape kind: every prim's matrix and tint must still be its own
    reds = [prim("Cube", f"R{i}", at=(-4 + i * 0.6, 0, 0), color=RED, body="double size = 0.5") for i in range(6)]
    blues = [prim("Cylinder", f"B{i}", at=(1 + i * 0.6, 0, 0), color=BLUE,
                  body='double radius = 0.2\ndouble height = 1.5\nuniform token axis = "Y"') for i in range(6)]
    green = prim("Cube", "G", at=(0, 2.5, 0), color=GREEN, body="double size = 0.8")
    _, rgb = decode(render(stage_text(*reds, *blues, green), 256, 192))
    red, blue, grn = mask(rgb, 0), mask(rgb, 2), mask(rgb, 1)
    assert red.sum() > 200 and blue.sum() > 200 and grn.sum() > 100
    assert np.nonzero(red)[1].max() < np.nonzero(blue)[1].min(), "some red pixel is right of a blue one"
    assert np.nonzero(grn)[0].mean() < min(np.nonzero(red)[0].mean(), np.nonzero(blue)[0].mean())  # above
    ys, xs = np.nonzero(blue)
    assert np.ptp(ys) > np.ptp(xs) / 3, "Y-axis cylinders must stand up, not lie along X"


def test_point_instancer_draws_like_the_same_prims_one_by_one() -> None:
    spots = [(-2, 0, 0), (0, 1, 0), (2, 0, 0)]
    proto = '            def Cube "P"\n            {\n                double size = 0.8\n' \
            f'                color3f[] primvars:displayColor = [{RED}]\n            }}'
    inst = ('    def PointInstancer "Inst"\n    {\n        rel prototypes = [</World/Inst/Protos/P>]\n'
            f"        int[] protoIndices = [0, 0, 0]\n        point3f[] positions = {[*spots]}\n"
            f'        def Scope "Protos"\n        {{\n{proto}\n        }}\n    }}')
    one_by_one = [prim("Cube", f"C{i}", at=at, color=RED, body="double size = 0.8") for i, at in enumerate(spots)]
    _, a = decode(render(stage_text(inst), 256, 192))
    _, b = decode(render(stage_text(*one_by_one), 256, 192))
    ma, mb = mask(a, 0), mask(b, 0)
    assert ma.sum() > 300
    assert (ma != mb).sum() < 0.02 * ma.sum(), "the instancer's cubes are not where the single cubes are"
