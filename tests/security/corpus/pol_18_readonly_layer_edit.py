# expect: reject-at-runtime
# policy: readonly
# attack: under `readonly`, reach the root layer through the stage and edit it with Sdf-level calls
#   that do not look like Set/Create/Define on the stage.
layer = stage.GetRootLayer()
layer.ImportFromString('#usda 1.0\ndef Xform "Sneaky"\n{\n}\n')
layer.Clear()
