# expect: accept
# what: physics materials (friction/restitution) as UsdShade materials with MaterialAPI, bound with the physics purpose.
from pxr import Gf, UsdGeom, UsdPhysics, UsdShade

PROPERTIES = {
    "Ice": {"static": 0.05, "dynamic": 0.02, "restitution": 0.1, "density": 917.0},
    "Rubber": {"static": 1.0, "dynamic": 0.8, "restitution": 0.85, "density": 1100.0},
    "Steel": {"static": 0.6, "dynamic": 0.4, "restitution": 0.3, "density": 7850.0},
}

for name, props in PROPERTIES.items():
    mat = UsdShade.Material.Define(stage, f"/World/PhysicsMaterials/{name}")
    api = UsdPhysics.MaterialAPI.Apply(mat.GetPrim())
    api.CreateStaticFrictionAttr(props["static"])
    api.CreateDynamicFrictionAttr(props["dynamic"])
    api.CreateRestitutionAttr(props["restitution"])
    api.CreateDensityAttr(props["density"])

    ball = UsdGeom.Sphere.Define(stage, f"/World/Balls/{name}Ball")
    ball.AddTranslateOp().Set(Gf.Vec3d(list(PROPERTIES).index(name) * 150.0, 200.0, 0))
    UsdPhysics.RigidBodyAPI.Apply(ball.GetPrim())
    UsdPhysics.CollisionAPI.Apply(ball.GetPrim())
    binding = UsdShade.MaterialBindingAPI.Apply(ball.GetPrim())
    binding.Bind(mat, UsdShade.Tokens.weakerThanDescendants, "physics")

for ball in stage.GetPrimAtPath("/World/Balls").GetChildren():
    mat, _ = UsdShade.MaterialBindingAPI(ball).ComputeBoundMaterial("physics")
    api = UsdPhysics.MaterialAPI(mat.GetPrim())
    print(f"{ball.GetName():11s} {mat.GetPrim().GetName():7s} e={api.GetRestitutionAttr().Get():.2f} "
          f"mu={api.GetDynamicFrictionAttr().Get():.2f}")
