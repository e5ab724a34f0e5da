"""Triangle meshes for the UsdGeom implicit shapes (Cube, Sphere, Cylinder, Cone, Capsule).

Why here and not in a library: USD defines these shapes by a few numbers (size, radius, height, axis), and
the renderer needs triangles; the unit shapes are built once per detail level with numpy and drawn per prim
under one matrix (GPU instancing), so a stage of ten thousand spheres is one sphere and ten thousand matrices.
Two detail levels: "fine" for ordinary scenes, "coarse" once the shapes alone would pass FINE_BUDGET
triangles (scene.py decides, before building anything). Shapes are (T, 3, 3) float64 corner positions,
centred on the origin, Z as their axis.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DETAIL = {"fine": (24, 12), "coarse": (12, 6)}  # (segments around the axis, rings pole to pole)
FINE_BUDGET = 500_000  # triangles of the whole scene above which shapes are drawn coarse


def _grid_triangles(rows: np.ndarray) -> np.ndarray:
    """Triangles joining consecutive rings of points: rows is (R, S, 3), the ring wraps around S."""
    a = rows[:-1]
    b = rows[1:]
    a2 = np.roll(a, -1, axis=1)
    b2 = np.roll(b, -1, axis=1)
    t1 = np.stack([a, b, b2], axis=2).reshape(-1, 3, 3)
    t2 = np.stack([a, b2, a2], axis=2).reshape(-1, 3, 3)
    return np.concatenate([t1, t2])


def _disc(z: float, radius: float, segments: int) -> np.ndarray:
    """A fan closing a ring of ``segments`` points at height z."""
    ang = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(ang) * radius, np.sin(ang) * radius, np.full_like(ang, z)], axis=1)
    centre = np.broadcast_to(np.array([0.0, 0.0, z]), ring.shape)
    return np.stack([centre, ring, np.roll(ring, -1, axis=0)], axis=1)


def _lathe(profile: np.ndarray, segments: int) -> np.ndarray:
    """Revolve (r, z) profile points around Z into triangles."""
    ang = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    r = profile[:, 0:1]
    z = profile[:, 1:2]
    rows = np.stack([r * np.cos(ang), r * np.sin(ang), np.broadcast_to(z, (len(profile), segments))], axis=2)
    return _grid_triangles(rows)


@lru_cache(maxsize=1)
def unit_cube(detail: str = "fine") -> np.ndarray:
    """A cube of edge 1 (USD's Cube with size 1); the same at every detail."""
    c = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = [(q[0], q[1], q[2]) for q in quads] + [(q[0], q[2], q[3]) for q in quads]
    return c[np.array(tris)]


@lru_cache(maxsize=2)
def unit_sphere(detail: str = "fine") -> np.ndarray:
    """A sphere of radius 1."""
    segments, rings = DETAIL[detail]
    phi = np.linspace(0.0, np.pi, rings + 1)
    return _lathe(np.stack([np.sin(phi), -np.cos(phi)], axis=1), segments)


@lru_cache(maxsize=2)
def unit_cylinder(detail: str = "fine") -> np.ndarray:
    """A capped cylinder of radius 1 and height 1."""
    segments, _ = DETAIL[detail]
    side = _lathe(np.array([[1.0, -0.5], [1.0, 0.5]]), segments)
    return np.concatenate([side, _disc(-0.5, 1.0, segments), _disc(0.5, 1.0, segments)])


@lru_cache(maxsize=2)
def unit_cone(detail: str = "fine") -> np.ndarray:
    """A cone of radius 1 and height 1, apex at +Z (as UsdGeom.Cone), base capped."""
    segments, _ = DETAIL[detail]
    side = _lathe(np.array([[1.0, -0.5], [0.0, 0.5]]), segments)
    return np.concatenate([side, _disc(-0.5, 1.0, segments)])


def capsule(radius: float, height: float, detail: str = "fine") -> np.ndarray:
    """A capsule: a cylinder of ``height`` with hemispherical caps of ``radius`` (not cached: two numbers)."""
    segments, rings = DETAIL[detail]
    half = rings // 2
    phi = np.linspace(0.0, np.pi / 2, half + 1)
    bottom = np.stack([np.sin(phi) * radius, -height / 2 - np.cos(phi) * radius], axis=1)
    top = np.stack([np.cos(phi) * radius, height / 2 + np.sin(phi) * radius], axis=1)
    return _lathe(np.concatenate([bottom, top]), segments)


def triangle_count(kind: str, detail: str = "fine") -> int:
    """Triangles a shape of this kind adds at this detail (budgets are checked before any shape is built)."""
    s, r = DETAIL[detail]
    return {"Cube": 12, "Sphere": 2 * s * r, "Cylinder": 4 * s, "Cone": 3 * s, "Capsule": 2 * s * (r + 1)}[kind]


AXIS_ROTATION = {  # maps the shapes' Z axis onto USD's axis token (row vectors)
    "Z": np.eye(3),
    "X": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "Y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),
}
