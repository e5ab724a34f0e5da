# expect: accept
# what: read attributes of the starting scene and print them.
world = stage.GetPrimAtPath("/World")
default = stage.GetDefaultPrim()
print("default prim:", default.GetPath() if default else None)
if not world:
    world = stage.GetPseudoRoot()
for prim in world.GetChildren():
    print(prim.GetPath(), prim.GetTypeName())
    for attr in prim.GetAttributes():
        if attr.HasAuthoredValue():
            print("   ", attr.GetName(), "=", attr.Get())
