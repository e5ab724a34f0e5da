# expect: reject-at-compile
# policy: scene-edit
# attack: name a sandbox hook (`_x_` names) to replace or call it
g = _getattr_
print('KGESC' + 'APE', g)
