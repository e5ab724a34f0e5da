# expect: reject-at-runtime
# policy: scene-edit
# attack: setattr on a host object
setattr(stage, 'GetRootLayer', None)
print('KGESC' + 'APE')
