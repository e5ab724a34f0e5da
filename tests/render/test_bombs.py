"""Renderer bombs: scenes built to make the renderer explode, each over the real child-process path.

Why here and not in tests/security/corpus: that corpus feeds Python scripts to the sandbox's Executor and
judges the script's verdict; a render happens after the job, on the layer the job produced, so its input
is usda text and its outcome a RenderError. Each case: the exact code, a message naming the limit or the
prim, a hint, and the caller (this process) still rendering a good scene afterwards.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from kitgate.render import RenderError, RenderLimits, RenderRequest, render_layer_text
from render.scenes import RED, decode, mask, prim, red_cube_blue_sphere, stage_text

REQ = RenderRequest(128, 96)


def instancer(count: int, proto: str = 'def Sphere "S"\n{\n    double radius = 0.5\n}', positions: bool = True) -> str:
    pos = ", ".join(f"({i % 100}, {i // 100}, 0)" for i in range(count)) if positions else ""
    body = (f"rel prototypes = [</World/Inst/Protos/{proto.split(chr(34))[1]}>]\n"
            f"int[] protoIndices = [{', '.join(['0'] * count)}]\n" + (f"point3f[] positions = [{pos}]" if pos else ""))
    inst = prim("PointInstancer", "Inst", body=body).rstrip("}").rstrip()
    return stage_text(inst + '\n        def Scope "Protos"\n        {\n'
                      + "\n".join("            " + line for line in proto.splitlines()) + "\n        }\n    }")


_PTS = ", ".join(f"({i % 7}, {i % 11}, {i % 13})" for i in range(3000))
THOUSAND_TRIANGLES = (f'def Mesh "P"\n{{\n    int[] faceVertexCounts = [{", ".join(["3"] * 1000)}]\n'
                      f'    int[] faceVertexIndices = [{", ".join(str(i) for i in range(3000))}]\n'
                      f'    point3f[] points = [{_PTS}]\n}}')


def mesh(counts: str, indices: str, points: str, name: str = "M") -> str:
    return prim("Mesh", name, color=RED, body=f"int[] faceVertexCounts = [{counts}]\n"
                f"int[] faceVertexIndices = [{indices}]\npoint3f[] points = [{points}]")


TRI = "(0, 0, 0), (1, 0, 0), (0, 1, 0)"
DEGENERATE = [
    mesh("3", "0, 1, 2", "(0, 0, 0), (1, 1, 1), (2, 2, 2)", "ZeroArea"),       # collinear: no area
    mesh("", "", "", "Empty"),
    mesh("3, 3", "0, 1, 2", TRI, "CountsMismatch"),                         # counts say 6, 3 indices
    mesh("3", "0, -1, 2", TRI, "NegativeIndex"),
    mesh("3", "0, 1, 99", TRI, "IndexOutOfRange"),
    mesh("-3, 6", "0, 1, 2", TRI, "NegativeCount"),
    mesh("3", "0, 1, 2", "(0, 0, 0), (nan, 0, 0), (0, inf, 0)", "NaNPoints"),
    mesh("2, 1", "0, 1, 2", TRI, "NoTriangles"),
    mesh("3", "0, 1, 2", "", "NoPoints"),
    prim("Sphere", "NegativeRadius", body="double radius = -1"),
    prim("Cube", "InfSize", body="double size = inf"),
    prim("Cylinder", "BadAxis", body='double radius = 1\ndouble height = 1\nuniform token axis = "W"'),
    prim("Cube", "NaNTransform", at=(float("nan"), 0, 0), body="double size = 1"),
    prim("Cube", "HugeTransform", at=(1e308, 1e308, 0), body="double size = 1e300"),
]


def expect(text: str, code: str, limits: RenderLimits | None = None, request: RenderRequest = REQ) -> RenderError:
    with pytest.raises(RenderError) as info:
        render_layer_text(text, request, limits or RenderLimits())
    err = info.value
    assert err.code == code, err.to_dict()
    assert err.message and err.hint, err.to_dict()
    return err


@pytest.fixture(autouse=True, scope="module")
def caller_survives():
    """After every bomb of this module, the caller (this process) still renders a good scene."""
    yield
    _, rgb = decode(render_layer_text(red_cube_blue_sphere(), RenderRequest(64, 48), RenderLimits()))
    assert mask(rgb, 0).sum() > 20 and mask(rgb, 2).sum() > 20, "the caller no longer renders"


def test_millions_of_faces_are_counted_before_tessellating() -> None:
    # 2,500 instances of a 1,000-triangle mesh: 2.5 M faces from ~100 kB of usda
    err = expect(instancer(2500, proto=THOUSAND_TRIANGLES, positions=False), "RenderTooLarge")
    assert "triangle count" in err.message and "2,000,000" in err.message and "max_faces" in err.hint


def test_huge_mesh_face_count_is_refused_from_the_arrays() -> None:
    n = 40_000  # quads: 80,000 triangles over a limit of 50,000
    side = int(math.isqrt(n)) + 1
    pts = ", ".join(f"({i % side}, {i // side}, 0)" for i in range(side * side))
    idx = ", ".join(f"{i}, {i + 1}, {i + side + 1}, {i + side}" for i in range(n))
    err = expect(stage_text(mesh(", ".join(["4"] * n), idx, pts)), "RenderTooLarge", RenderLimits(max_faces=50_000))
    assert "80,000" in err.message and "50,000" in err.message


def test_huge_instance_count() -> None:
    err = expect(instancer(100_001, positions=False), "RenderTooLarge")
    assert "instance count" in err.message and "100,000" in err.message


def test_prim_count_limit() -> None:
    cubes = [prim("Cube", f"C{i}", at=(i, 0, 0), body="double size = 0.5") for i in range(1200)]
    err = expect(stage_text(*cubes), "RenderTooLarge", RenderLimits(max_prims=1000))
    assert "prim count" in err.message and "1,000" in err.message


def test_nested_instancing_through_instanceable_references_counts_every_proxy() -> None:
    # 10 x 10 x 10 instanceable levels: each level references the one below ten times
    levels = ['def Xform "L0"\n{\n    def Cube "C"\n    {\n        double size = 0.1\n    }\n}']
    for n in range(1, 4):
        kids = "\n".join(f'    def "K{k}" (\n        instanceable = true\n        references = </L{n - 1}>\n    )\n'
                         "    {\n    }" for k in range(10))
        levels.append(f'def Xform "L{n}"\n{{\n{kids}\n}}')
    text = ("#usda 1.0\n" + "\n".join(levels)
            + '\ndef Xform "World"\n{\n    def "Top" (\n        references = </L3>\n    )\n    {\n    }\n}\n')
    err = expect(text, "RenderTooLarge", RenderLimits(max_prims=1500))
    assert "prim count" in err.message


def test_degenerate_geometry_alone_is_nothing_to_render() -> None:
    err = expect(stage_text(*DEGENERATE), "NothingToRender")
    for name in ("CountsMismatch", "NegativeIndex", "IndexOutOfRange", "NegativeCount", "NaNPoints",
                 "NaNTransform", "NegativeRadius"):
        assert f"/World/{name}" in err.message, name


def test_degenerate_geometry_next_to_a_good_prim_still_renders() -> None:
    text = red_cube_blue_sphere(extra="\n".join(DEGENERATE))
    img, rgb = decode(render_layer_text(text, REQ, RenderLimits()))
    assert img.size == (128, 96) and mask(rgb, 2).sum() > 20
    assert "/World/NaNTransform" in img.info["Comment"]


def test_nan_camera() -> None:
    cam = ('    def Camera "Cam"\n    {\n        double3 xformOp:translate = (nan, 0, 5)\n'
           '        uniform token[] xformOpOrder = ["xformOp:translate"]\n    }')
    err = expect(red_cube_blue_sphere(extra=cam), "BadCamera", request=RenderRequest(64, 64, "/World/Cam"))
    assert "NaN" in err.message


@pytest.mark.parametrize("size, limit_word", [((2049, 16), "width"), ((16, 5000), "height"),
                                              ((2048, 2048), "pixel count")])
def test_pixel_limits(size: tuple[int, int], limit_word: str) -> None:
    limits = RenderLimits(max_pixels=1_000_000, max_height=4096)
    err = expect(red_cube_blue_sphere(), "RenderTooLarge", limits, RenderRequest(*size))
    assert limit_word in err.message


def test_time_limit_kills_the_render() -> None:
    cubes = [prim("Cube", f"C{i}", at=(i % 50, i // 50, 0), body="double size = 0.5") for i in range(3000)]
    started = time.monotonic()
    err = expect(stage_text(*cubes), "RenderTimeout", RenderLimits(time_s=0.05))
    assert "0.05 s" in err.message
    assert time.monotonic() - started < 60


def test_memory_limit() -> None:
    # capsules are tessellated one by one (their caps do not scale): 384,000 triangles built in numpy,
    # under max_faces, do not fit in 48 MB
    capsules = [prim("Capsule", f"C{i}", at=(i % 50, i // 50, 0), body="double radius = 0.4") for i in range(2000)]
    err = expect(stage_text(*capsules), "RenderOutOfMemory", RenderLimits(memory_mb=48))
    assert "memory" in err.message


def test_instanced_triangles_are_drawn_not_built() -> None:
    # 1.9 M triangles: a 1000-triangle prototype under 1900 instances is one batch and 1900 matrices, so it
    # fits a memory cap its triangles built one by one (over 500 MB of arrays) would not
    img, rgb = decode(render_layer_text(instancer(1900, proto=THOUSAND_TRIANGLES), REQ, RenderLimits(memory_mb=256)))
    assert img.size == (128, 96) and len(np.unique(rgb.reshape(-1, 3), axis=0)) > 2, "blank picture"


def test_png_size_limit() -> None:
    noisy = np.random.default_rng(1).random((400, 3))  # many colours: a PNG that does not compress
    tris = ", ".join(str(i) for i in range(1200))
    pts = ", ".join(f"({x * 4}, {y * 4}, {z})" for x, y, z in np.random.default_rng(2).random((1200, 3)))
    cols = ", ".join(f"({r}, {g}, {b})" for r, g, b in noisy)
    body = (f"int[] faceVertexCounts = [{', '.join(['3'] * 400)}]\nint[] faceVertexIndices = [{tris}]\n"
            f"point3f[] points = [{pts}]\n"
            f'color3f[] primvars:displayColor = [{cols}] (\n    interpolation = "uniform"\n)')
    err = expect(stage_text(prim("Mesh", "Noise", body=body)), "RenderTooLarge", RenderLimits(max_png_bytes=2000),
                 RenderRequest(256, 256))
    assert "PNG size" in err.message



def test_an_instanced_prototype_with_no_area_is_nothing_to_render() -> None:
    flat = 'def Mesh "P"\n{\n    int[] faceVertexCounts = [3]\n    int[] faceVertexIndices = [0, 1, 2]\n' \
           '    point3f[] points = [(0, 0, 0), (1, 1, 1), (2, 2, 2)]\n}'
    expect(instancer(50, proto=flat), "NothingToRender")
