# expect: accept
# what: build a scratch layer from a dedented usda snippet, then copy a prim from it into the job stage.
import textwrap

from pxr import Sdf, UsdGeom

SNIPPET = textwrap.dedent("""\
    #usda 1.0
    def Xform "Bench"
    {
        def Cube "Seat"
        {
            double size = 1
            float3 xformOp:scale = (1.2, 0.05, 0.4)
            uniform token[] xformOpOrder = ["xformOp:scale"]
        }
        def Cube "Leg"
        {
            double size = 0.1
        }
    }
""")

scratch = Sdf.Layer.CreateAnonymous(".usda")
ok = scratch.ImportFromString(SNIPPET)
print("parsed:", ok, "root prims:", [p.name for p in scratch.rootPrims])
Sdf.CopySpec(scratch, "/Bench", stage.GetRootLayer(), "/World/Bench")
bench = stage.GetPrimAtPath("/World/Bench")
print("copied children:", [c.GetName() for c in bench.GetChildren()])
print("seat scale:", UsdGeom.Cube(bench.GetChild("Seat")).GetPrim().GetAttribute("xformOp:scale").Get())
