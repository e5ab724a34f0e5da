# expect: reject-at-runtime
# policy: scene-edit
# attack: type(x).__subclasses__ through getattr
subs = getattr(type(1), '__subcla' + 'sses__')
print('KGESC' + 'APE', subs())
