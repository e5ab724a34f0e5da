# expect: reject-at-runtime
# attack: smuggle an asset path inside usda text: ImportFromString with subLayers = [@/tmp/...@]
#   bypasses any check done only on API string arguments.
text = """#usda 1.0
(
    subLayers = [@/tmp/kitgate-corpus-canary/tenant-b.usda@]
)
"""
stage.GetRootLayer().ImportFromString(text)
print([str(p.GetPath()) for p in stage.Traverse()])
