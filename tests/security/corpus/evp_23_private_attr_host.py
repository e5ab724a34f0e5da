# expect: reject-at-runtime
# policy: scene-edit
# attack: single-underscore names are for the script's own objects only
layer = stage.GetRootLayer()
print('KGESC' + 'APE', layer._GetPrimAtPath)
