# expect: accept
# what: reference and payload several assets, then list each prim's composed asset dependencies (prim index arcs).
from pxr import Sdf, Usd

ASSETS = "/tmp/kitgate-benign-assets"
stage.DefinePrim("/World/Chair").GetReferences().AddReference(f"{ASSETS}/chair.usda")
stage.DefinePrim("/World/Arm").GetReferences().AddReference(f"{ASSETS}/robot_arm.usda")
stage.DefinePrim("/World/Rock").GetPayloads().AddPayload(f"{ASSETS}/rock_payload.usda")

deps = {}
for prim in stage.GetPrimAtPath("/World").GetChildren():
    layers = set()
    for spec in prim.GetPrimStack():
        if spec.layer != stage.GetRootLayer():
            layers.add(spec.layer.identifier.rsplit("/", 1)[-1])
    refs = [r.assetPath.rsplit("/", 1)[-1] for r in prim.GetMetadata("references").GetAddedOrExplicitItems()] \
        if prim.HasMetadata("references") else []
    deps[prim.GetName()] = {"layers": sorted(layers), "references": refs, "payload": prim.HasPayload()}

for name in sorted(deps):
    print(name, deps[name])
used = sorted(Sdf.Layer.GetDisplayNameFromIdentifier(layer.identifier) for layer in stage.GetUsedLayers()
              if not layer.anonymous)
print("used layers:", used)
