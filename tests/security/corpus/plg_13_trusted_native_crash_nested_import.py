# expect: reject-at-runtime
# policy: trusted
# attack: F7 in-process: ImportFromString of 50,000 nested prim blocks (600 KB) overflows the usda
#   parser's stack in the host.
text = '#usda 1.0\n' + 'def "A" {\n' * 50000 + '}\n' * 50000
stage.GetRootLayer().ImportFromString(text)
