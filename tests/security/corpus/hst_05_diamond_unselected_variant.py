# expect: reject-at-runtime
# policy: scene-edit
# neutralised: the composition budget counts every variant (any host may select any of them later)
# attack: an inherits/specializes diamond inside a variant nobody selects: harmless until a host (a Kit user) selects it.
from pxr import Sdf
Sdf.CreatePrimInLayer(stage.GetRootLayer(), "/World")  # any stage, also the CLI's empty one
lines = ["#usda 1.0", 'over "World"', "{", 'def "Switch" (', '    variants = {', '        string mode = "off"', "    }",
         '    prepend variantSets = "mode"', ")", "{", '    variantSet "mode" = {', '        "off" {', "        }",
         '        "bomb" {']
for i in range(25):
    for n in "AB":
        arcs = "" if i == 24 else " (prepend inherits = </World/Switch/A%d>\n prepend specializes = </World/Switch/B%d>)" % (i + 1, i + 1)
        lines.append('            def "%s%d"%s {}' % (n, i, arcs))
scratch = Sdf.Layer.CreateAnonymous()
scratch.ImportFromString("\n".join(lines + ["        }", "    }", "}", "}"]))
Sdf.CopySpec(scratch, "/World/Switch", stage.GetRootLayer(), "/World/Switch")
