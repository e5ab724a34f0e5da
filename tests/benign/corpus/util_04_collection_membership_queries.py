# expect: accept
# what: named collections for render passes, expansion rules, and membership queries over the scene.
from pxr import Usd, UsdGeom

for group in ("Characters", "Props", "Environment"):
    for i in range(3):
        UsdGeom.Cube.Define(stage, f"/World/{group}/Item{i}")

passes = stage.DefinePrim("/World/RenderPasses")
beauty = Usd.CollectionAPI.Apply(passes, "beauty")
beauty.CreateExpansionRuleAttr(Usd.Tokens.expandPrims)
beauty.GetIncludesRel().AddTarget("/World")
beauty.GetExcludesRel().AddTarget("/World/Environment/Item2")

chars_only = Usd.CollectionAPI.Apply(passes, "charsOnly")
chars_only.CreateExpansionRuleAttr(Usd.Tokens.explicitOnly)
chars_only.GetIncludesRel().SetTargets(["/World/Characters/Item0", "/World/Characters/Item1"])

for coll in Usd.CollectionAPI.GetAllCollections(passes):
    query = coll.ComputeMembershipQuery()
    members = Usd.CollectionAPI.ComputeIncludedPaths(query, stage)
    cubes = [str(p) for p in members if stage.GetPrimAtPath(p).IsA(UsdGeom.Cube)]
    print(f"{coll.GetName():10s} rule={coll.GetExpansionRuleAttr().Get():13s} cubes={len(cubes)}")
print("Item2 in beauty:", beauty.ComputeMembershipQuery().IsPathIncluded("/World/Environment/Item2"))
print("valid:", Usd.CollectionAPI.IsCollectionAPIPath(passes.GetPath().AppendProperty("collection:beauty")))
