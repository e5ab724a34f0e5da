# expect: accept
# what: breadth-first traversal with collections.deque, reporting prims per depth level.
from collections import deque, OrderedDict

from pxr import UsdGeom

for a in range(2):
    for b in range(2):
        for c in range(2):
            UsdGeom.Cube.Define(stage, f"/World/Tree/A{a}/B{b}/C{c}")

levels = OrderedDict()
queue = deque([(stage.GetPrimAtPath("/World/Tree"), 0)])
while queue:
    prim, depth = queue.popleft()
    levels.setdefault(depth, []).append(prim.GetName())
    queue.extend((child, depth + 1) for child in prim.GetChildren())

for depth, names in levels.items():
    print(f"depth {depth}: {len(names):2d} {' '.join(names)}")
print("leaves:", len(levels[max(levels)]))
