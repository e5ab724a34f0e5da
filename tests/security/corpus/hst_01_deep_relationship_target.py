# expect: reject-at-runtime
# policy: scene-edit
# neutralised: the delta's text is scanned before the host parses it; a path nesting targets deeper than 4 is refused (DeltaRejected)
# attack: a relationship target nested 35,000 levels deep is cheap to build in the child, but USD's text parser recurses per level and segfaulted the host re-parsing the delta.
from pxr import Sdf
p = Sdf.Path("/D")
for i in range(35000):
    p = Sdf.Path("/B.r").AppendTarget(p).AppendRelationalAttribute("x")
stage.DefinePrim("/World/P").CreateRelationship("rel").AddTarget(p)
