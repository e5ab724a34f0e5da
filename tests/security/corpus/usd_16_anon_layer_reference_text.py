# expect: reject-at-runtime
# attack: an anonymous layer whose usda text references the foreign file, then sublayer the anonymous layer.
from pxr import Sdf
anon = Sdf.Layer.CreateAnonymous("helper")
anon.ImportFromString("""#usda 1.0
def "Stolen" (
    references = @/tmp/kitgate-corpus-canary/tenant-b.usda@
)
{
}
""")
stage.GetRootLayer().subLayerPaths.append(anon.identifier)
print([str(p.GetPath()) for p in stage.Traverse()])
