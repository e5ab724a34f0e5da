# expect: accept
# what: compare an expected manifest against the stage with set operations (missing, extra, common).
from pxr import UsdGeom

MANIFEST = frozenset({"Table", "Chair_01", "Chair_02", "Chair_03", "Lamp", "Rug"})
for name in ("Table", "Chair_01", "Chair_03", "Lamp", "Plant", "Bookcase"):
    UsdGeom.Xform.Define(stage, f"/World/Room/{name}")

present = {p.GetName() for p in stage.GetPrimAtPath("/World/Room").GetChildren()}
missing = MANIFEST - present
extra = present - MANIFEST
common = MANIFEST & present
print("missing:", sorted(missing))
print("extra:", sorted(extra))
print("ok: %d/%d" % (len(common), len(MANIFEST)))
print("symmetric difference:", sorted(MANIFEST ^ present))
print("chairs present:", sorted(n for n in common if n.startswith("Chair")))
