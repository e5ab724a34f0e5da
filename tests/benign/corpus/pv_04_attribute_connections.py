# expect: accept
# what: attribute connections between custom attributes.
from pxr import Sdf

src = stage.DefinePrim("/World/Source")
dst = stage.DefinePrim("/World/Dest")
out = src.CreateAttribute("outputs:value", Sdf.ValueTypeNames.Float)
out.Set(4.0)
inp = dst.CreateAttribute("inputs:value", Sdf.ValueTypeNames.Float)
inp.AddConnection(out.GetPath())
print(inp.GetConnections(), inp.HasAuthoredConnections())
