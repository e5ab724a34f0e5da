# expect: accept
# what: an anonymous Sdf layer built from text, copied into the job stage.
from pxr import Sdf

anon = Sdf.Layer.CreateAnonymous("snippet")
anon.ImportFromString("""#usda 1.0
def Xform "Snippet"
{
    def Cube "Box"
    {
        double size = 0.25
    }
}
""")
stage.DefinePrim("/World", "Xform")
Sdf.CopySpec(anon, "/Snippet", stage.GetRootLayer(), "/World/Snippet")
print([c.GetName() for c in stage.GetPrimAtPath("/World/Snippet").GetChildren()])
