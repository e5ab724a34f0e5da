# expect: reject-at-compile
# policy: scene-edit
# attack: rebinding RestrictedPython's _print collector
_print = None
print('KGESC' + 'APE')
