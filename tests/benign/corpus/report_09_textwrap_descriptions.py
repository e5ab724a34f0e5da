# expect: accept
# what: store long documentation strings on prims and print them wrapped and indented with textwrap.
import textwrap

from pxr import UsdGeom

DOCS = {
    "Bridge": "A suspension bridge spanning the river. The deck is split into segments so that the physics "
              "team can break it apart for the destruction shot in sequence 40.",
    "Tower": "Main tower. Hero asset; do not decimate. Lighting uses it as the key shadow caster at dusk.",
}
for name, doc in DOCS.items():
    prim = UsdGeom.Xform.Define(stage, f"/World/{name}").GetPrim()
    prim.SetDocumentation(doc)
    prim.SetMetadata("comment", textwrap.shorten(doc, width=40, placeholder=" ..."))

for prim in stage.GetPrimAtPath("/World").GetChildren():
    doc = prim.GetDocumentation()
    if not doc:
        continue
    print(prim.GetName() + ":")
    print(textwrap.indent(textwrap.fill(doc, width=50), "    "))
    print("    short:", prim.GetMetadata("comment"))
