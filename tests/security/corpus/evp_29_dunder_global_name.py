# expect: reject-at-compile
# policy: scene-edit
# attack: __builtins__ / other dunder globals as bare names
b = __builtins__
print('KGESC' + 'APE', b)
