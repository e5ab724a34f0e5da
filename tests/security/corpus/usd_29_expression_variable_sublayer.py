# expect: reject-at-runtime
# attack: a variable-expression asset path (`"${D}/tenant-b.usda"`) whose directory comes from the
#   layer's expressionVariables, so no literal outside path appears anywhere.
text = '''#usda 1.0
(
    expressionVariables = {
        string D = "/tmp/kitgate-corpus-canary"
    }
    subLayers = [@`"${D}/tenant-b.usda"`@]
)
'''
stage.GetRootLayer().ImportFromString(text)
print([str(p.GetPath()) for p in stage.Traverse()])
