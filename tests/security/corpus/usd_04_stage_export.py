# expect: reject-at-runtime
# attack: Usd.Stage.Export flattens and writes outside the roots.
stage.Export("/tmp/kitgate-corpus-canary/ESCAPED-usd_04.usda")
