# expect: reject-at-runtime
# policy: scene-edit
# neutralised: a budgeted count of prim-index nodes (every arc, every variant) in the child and again on the host before recomposition
# attack: a 24-level diamond of internal references built in an anonymous layer and copied under a prim the job's own stage sees as inactive (session layer): the host composes 2^24 nodes.
from pxr import Sdf, Usd
Sdf.CreatePrimInLayer(stage.GetRootLayer(), "/World")  # any stage, also the CLI's empty one
with Usd.EditContext(stage, stage.GetSessionLayer()):
    stage.OverridePrim("/World/Bomb").SetActive(False)
lines = ["#usda 1.0", 'over "World"', "{", 'def "Bomb"', "{"]
for i in range(25):
    for n in "AB":
        arcs = "" if i == 24 else " (prepend references = [</World/Bomb/A%d>, </World/Bomb/B%d>])" % (i + 1, i + 1)
        lines.append('def "%s%d"%s {}' % (n, i, arcs))
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString("\n".join(lines + ["}", "}"]))
Sdf.CopySpec(scratch, "/World/Bomb", stage.GetRootLayer(), "/World/Bomb")
