# expect: accept
# what: static ground collider with a physics material.
from pxr import UsdGeom, UsdPhysics, UsdShade

ground = UsdGeom.Cube.Define(stage, "/World/GroundCollider")
ground.AddScaleOp().Set((50, 0.1, 50))
UsdPhysics.CollisionAPI.Apply(ground.GetPrim())
mat = UsdShade.Material.Define(stage, "/World/PhysMats/Rubber")
pmat = UsdPhysics.MaterialAPI.Apply(mat.GetPrim())
pmat.CreateStaticFrictionAttr(0.9)
pmat.CreateDynamicFrictionAttr(0.8)
pmat.CreateRestitutionAttr(0.6)
UsdShade.MaterialBindingAPI.Apply(ground.GetPrim()).Bind(mat, UsdShade.Tokens.weakerThanDescendants, "physics")
print(ground.GetPrim().GetAppliedSchemas())
