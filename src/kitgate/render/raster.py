"""Drawing triangles to pixels: OpenGL 3.3 through moderngl, on an EGL context with no display.

Why moderngl on EGL: on a machine without a GPU, Mesa's llvmpipe is a maintained, fast (JIT, multi-threaded)
software OpenGL, and EGL's surfaceless platform gives it an offscreen context with no X server; moderngl is
a small, well-kept binding whose wheels need only the system's libEGL. Everything here is a plain draw: one
instanced draw call per Batch (its triangles once, a row-vector matrix and a tint per instance, so ten
thousand cubes are 36 vertices and ten thousand matrices), per-corner colors, flat shading from the
triangle's own screen-space derivatives (no normals to compute or upload), one directional light plus
ambient, 4x multisampling up to MSAA_MAX_TRIANGLES drawn triangles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kitgate.render.batch import Batch
from kitgate.render.errors import RenderError

BACKGROUND = (0.16, 0.17, 0.19)
LIGHT_DIR = (-0.35, 0.55, 0.75)  # view space: from the upper left, behind the viewer
SAMPLES = 4
MSAA_MAX_TRIANGLES = 250_000  # above this, multisampling costs ~1 s on llvmpipe and tiny triangles gain little
INSTALL_HINT = ("install Mesa's EGL (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri; `make gl`) "
                "and the render extra (pip install 'kitgate[render]')")

VERTEX_SHADER = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
in vec3 in_col;
in vec4 in_r0;
in vec4 in_r1;
in vec4 in_r2;
in vec4 in_r3;
in vec3 in_tint;
out vec3 v_pos;
out vec3 v_col;
void main() {
    // the instance's row-vector matrix (rows r0..r3) takes the corner to view space
    vec4 p = in_pos.x * in_r0 + in_pos.y * in_r1 + in_pos.z * in_r2 + in_r3;
    gl_Position = proj * p;
    v_pos = p.xyz;
    v_col = in_col * in_tint;
}
"""

FRAGMENT_SHADER = """
#version 330
uniform vec3 light;
in vec3 v_pos;
in vec3 v_col;
out vec4 f_color;
void main() {
    // flat shading: the triangle's own normal from the screen-space change of its view-space position
    vec3 n = cross(dFdx(v_pos), dFdy(v_pos));
    float len = length(n);
    float facing = len > 0.0 ? abs(dot(n / len, light)) : 1.0;
    f_color = vec4(v_col * (0.32 + 0.68 * facing), 1.0);
}
"""


def create_context():  # noqa: ANN201  (moderngl.Context; moderngl is imported lazily)
    """A headless OpenGL 3.3 context, or RendererUnavailable saying what to install."""
    try:
        import moderngl
    except ImportError as exc:
        raise RenderError("RendererUnavailable", f"moderngl is not installed ({exc})", INSTALL_HINT) from exc
    try:
        return moderngl.create_standalone_context(backend="egl", require=330)
    except Exception as exc:  # moderngl/glcontext raise plain Exception when EGL or the driver is missing
        raise RenderError("RendererUnavailable", f"no headless OpenGL context: {str(exc)[:300]}",
                          INSTALL_HINT) from exc


def vertex_data(tris: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """(T*3, 6) float32 rows of position and color (colors (T,3,3) or (1,1,3))."""
    t = tris.shape[0]
    data = np.empty((t, 3, 6), dtype=np.float32)
    data[:, :, 0:3] = tris
    data[:, :, 3:6] = colors
    return data.reshape(t * 3, 6)


def instance_data(mats: np.ndarray, tints: np.ndarray) -> np.ndarray:
    """(N, 19) float32 rows: the four rows of each row-vector matrix, then the tint."""
    n = mats.shape[0]
    data = np.empty((n, 19), dtype=np.float32)
    data[:, :16] = mats.reshape(n, 16)
    data[:, 16:] = tints
    return data


def draw(batches: Sequence[Batch], proj: np.ndarray, width: int, height: int,
         context=None) -> np.ndarray:  # noqa: ANN001  (moderngl.Context or None: a context of our own)
    """An (height, width, 3) uint8 picture of view-space batches under ``proj`` (row-vector convention):
    each batch's triangles drawn once per instance matrix in one instanced draw call, flat-shaded.

    ``context``: a context made earlier by create_context (the child makes it before capping its address
    space, as Mesa reserves a lot of it); it is left open. Without one, a context is made and released."""
    ctx = context if context is not None else create_context()
    made: list[object] = []
    try:
        limit = int(ctx.info.get("GL_MAX_RENDERBUFFER_SIZE", 0) or 0)
        if limit and max(width, height) > limit:
            raise RenderError("RenderTooLarge", f"{width}x{height} is over this OpenGL's limit of {limit}",
                              f"ask for width and height <= {limit}")
        wanted = SAMPLES if sum(b.triangles for b in batches) <= MSAA_MAX_TRIANGLES else 0
        samples = min(wanted, int(getattr(ctx, "max_samples", 0) or 0))
        prog = ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=FRAGMENT_SHADER)
        made.append(prog)
        prog["proj"].write(np.ascontiguousarray(proj, dtype=np.float32).tobytes())  # row-major = transposed
        light = np.array(LIGHT_DIR, dtype=np.float32)
        prog["light"].value = tuple(float(v) for v in light / np.linalg.norm(light))
        size = (width, height)
        msaa = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4, samples=samples)],
                               depth_attachment=ctx.depth_renderbuffer(size, samples=samples))
        made += [msaa, *msaa.color_attachments, msaa.depth_attachment]
        msaa.use()
        ctx.enable(ctx.DEPTH_TEST)
        ctx.clear(*BACKGROUND, 1.0)
        for batch in batches:
            vbo = ctx.buffer(vertex_data(batch.tris, batch.colors))
            ibo = ctx.buffer(instance_data(batch.mats, batch.tints))
            made += [vbo, ibo]
            vao = ctx.vertex_array(prog, [(vbo, "3f 3f", "in_pos", "in_col"),
                                          (ibo, "4f 4f 4f 4f 3f/i", "in_r0", "in_r1", "in_r2", "in_r3", "in_tint")])
            made.append(vao)
            vao.render(instances=int(batch.mats.shape[0]))
        out = ctx.simple_framebuffer(size, components=4)
        made.append(out)
        ctx.copy_framebuffer(out, msaa)
        pixels = np.frombuffer(out.read(components=3, alignment=1), dtype=np.uint8)
        return pixels.reshape(height, width, 3)[::-1].copy()  # GL's first row is the bottom one
    finally:
        if context is None:
            ctx.release()
        else:
            for obj in reversed(made):
                obj.release()  # type: ignore[attr-defined]
