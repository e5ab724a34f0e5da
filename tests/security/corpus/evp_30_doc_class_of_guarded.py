# expect: reject-at-runtime
# policy: scene-edit
# attack: str.__class__ of a guarded builtin, then its __call__
c = str.__class__
print('KGESC' + 'APE', getattr(c, '__ca' + 'll__'))
