# expect: accept
# what: memoise an expensive world-transform query with functools.lru_cache keyed by path string.
import functools

from pxr import Gf, Usd, UsdGeom

for i in range(5):
    parent = UsdGeom.Xform.Define(stage, f"/World/Chain/L{i}" if i == 0 else f"{'/World/Chain/' + '/'.join(f'L{j}' for j in range(i + 1))}")
    parent.AddTranslateOp().Set(Gf.Vec3d(1, 0.5, 0))
    parent.AddRotateZOp().Set(10.0 * i)

calls = {"n": 0}


@functools.lru_cache(maxsize=None)
def world_position(path: str) -> tuple:
    calls["n"] += 1
    m = UsdGeom.Xformable(stage.GetPrimAtPath(path)).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    t = m.ExtractTranslation()
    return round(t[0], 4), round(t[1], 4), round(t[2], 4)


paths = [str(p.GetPath()) for p in stage.Traverse() if p.GetPath().HasPrefix("/World/Chain")]
for _ in range(3):
    positions = [world_position(p) for p in paths]
print("end effector:", positions[-1])
print("queries:", len(paths) * 3, "computed:", calls["n"])
print("cache:", world_position.cache_info().hits, "hits")
