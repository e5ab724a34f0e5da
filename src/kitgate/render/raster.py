"""Drawing triangles to pixels: OpenGL 3.3 through moderngl, on an EGL context with no display.

Why moderngl on EGL: on a machine without a GPU, Mesa's llvmpipe is a maintained, fast (JIT, multi-threaded)
software OpenGL, and EGL's surfaceless platform gives it an offscreen context with no X server; moderngl is
a small, well-kept binding whose wheels need only the system's libEGL. Everything here is a plain draw:
flat-shaded triangles with per-corner colors, one directional light plus ambient, 4x multisampling up to
MSAA_MAX_TRIANGLES.
"""

from __future__ import annotations

import numpy as np

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
in vec3 in_nrm;
in vec3 in_col;
out vec3 v_nrm;
out vec3 v_col;
void main() {
    gl_Position = proj * vec4(in_pos, 1.0);
    v_nrm = in_nrm;
    v_col = in_col;
}
"""

FRAGMENT_SHADER = """
#version 330
uniform vec3 light;
in vec3 v_nrm;
in vec3 v_col;
out vec4 f_color;
void main() {
    float lit = 0.32 + 0.68 * abs(dot(normalize(v_nrm), light));
    f_color = vec4(v_col * lit, 1.0);
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


def interleave(view_tris: np.ndarray, normals: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """(T*3, 9) float32 rows of position, flat normal (one per triangle), color."""
    t = view_tris.shape[0]
    data = np.empty((t, 3, 9), dtype=np.float32)
    data[:, :, 0:3] = view_tris
    data[:, :, 3:6] = normals[:, None, :]
    data[:, :, 6:9] = colors
    return data.reshape(t * 3, 9)


def draw(view_tris: np.ndarray, normals: np.ndarray, colors: np.ndarray, proj: np.ndarray, width: int, height: int,
         context=None) -> np.ndarray:  # noqa: ANN001  (moderngl.Context or None: a context of our own)
    """An (height, width, 3) uint8 picture of view-space triangles under ``proj`` (row-vector convention),
    flat-shaded with their unit ``normals`` (T, 3).

    ``context``: a context made earlier by create_context (the child makes it before capping its address
    space, as Mesa reserves a lot of it); it is left open. Without one, a context is made and released."""
    ctx = context if context is not None else create_context()
    made: list[object] = []
    try:
        limit = int(ctx.info.get("GL_MAX_RENDERBUFFER_SIZE", 0) or 0)
        if limit and max(width, height) > limit:
            raise RenderError("RenderTooLarge", f"{width}x{height} is over this OpenGL's limit of {limit}",
                              f"ask for width and height <= {limit}")
        wanted = SAMPLES if len(view_tris) <= MSAA_MAX_TRIANGLES else 0
        samples = min(wanted, int(getattr(ctx, "max_samples", 0) or 0))
        prog = ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=FRAGMENT_SHADER)
        prog["proj"].write(np.ascontiguousarray(proj, dtype=np.float32).tobytes())  # row-major = transposed
        light = np.array(LIGHT_DIR, dtype=np.float32)
        prog["light"].value = tuple(float(v) for v in light / np.linalg.norm(light))
        vbo = ctx.buffer(interleave(view_tris, normals, colors))  # the array's own buffer, no bytes copy
        made += [prog, vbo]
        vao = ctx.vertex_array(prog, [(vbo, "3f 3f 3f", "in_pos", "in_nrm", "in_col")])
        size = (width, height)
        msaa = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4, samples=samples)],
                               depth_attachment=ctx.depth_renderbuffer(size, samples=samples))
        made += [vao, msaa, *msaa.color_attachments, msaa.depth_attachment]
        msaa.use()
        ctx.enable(ctx.DEPTH_TEST)
        ctx.clear(*BACKGROUND, 1.0)
        vao.render()
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
