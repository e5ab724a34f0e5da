# expect: reject-at-runtime
# policy: scene-edit
# neutralised: path shape budgets on the delta text (DeltaRejected) before any pxr parse on the host
# attack: an attribute connection to a 35,000-level relational-attribute path: the same parser recursion through .connect.
from pxr import Sdf
p = Sdf.Path("/D")
for i in range(35000):
    p = Sdf.Path("/S.o").AppendTarget(p).AppendRelationalAttribute("y")
attr = stage.DefinePrim("/World/Shader").CreateAttribute("inputs:c", Sdf.ValueTypeNames.Float)
attr.AddConnection(p)
