# expect: reject-at-runtime
# policy: scene-edit
# attack: getattr with a built dunder string (the builtin goes through the same guard as the dot)
f = getattr(print, '__se' + 'lf__')
print('KGESC' + 'APE', f)
