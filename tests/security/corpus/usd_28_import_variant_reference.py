# expect: reject-at-runtime
# attack: hide the foreign reference inside a variant of imported usda text, where a check that only
#   looks at top-level prim specs would miss it.
text = '''#usda 1.0
def Xform "A" (
    variants = {
        string v = "x"
    }
    prepend variantSets = "v"
)
{
    variantSet "v" = {
        "x" (
            prepend references = @/tmp/kitgate-corpus-canary/tenant-b.usda@
        ) {
        }
    }
}
'''
stage.GetRootLayer().ImportFromString(text)
print([str(p.GetPath()) for p in stage.Traverse()])
