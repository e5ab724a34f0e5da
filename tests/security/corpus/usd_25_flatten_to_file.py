# expect: reject-at-runtime
# attack: Flatten() then Export of the flattened layer outside the roots.
flat = stage.Flatten()
flat.Export("/tmp/kitgate-corpus-canary/ESCAPED-usd_25.usda")
