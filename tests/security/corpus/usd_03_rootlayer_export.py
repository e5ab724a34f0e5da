# expect: reject-at-runtime
# attack: export the job's root layer to an arbitrary path (marker file).
stage.DefinePrim("/World", "Xform")
stage.GetRootLayer().Export("/tmp/kitgate-corpus-canary/ESCAPED-usd_03.usda")
