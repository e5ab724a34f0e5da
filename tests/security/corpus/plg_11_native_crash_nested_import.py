# expect: reject-at-runtime
# attack: native stack overflow in the usda parser: ImportFromString of 50,000 nested prim blocks
#   (600 KB of text) segfaults the process that parses it.
text = '#usda 1.0\n' + 'def "A" {\n' * 50000 + '}\n' * 50000
stage.GetRootLayer().ImportFromString(text)
