# expect: accept
# what: a payload to an asset, loaded and then unloaded.
from pxr import Usd

rock = stage.DefinePrim("/World/Rock", "Xform")
rock.GetPayloads().AddPayload("/tmp/kitgate-benign-assets/rock_payload.usda")
stage.Load("/World/Rock")
print("loaded children:", [c.GetName() for c in rock.GetChildren()])
stage.Unload("/World/Rock")
print("has payload:", rock.HasPayload(), "loaded:", rock.IsLoaded())
