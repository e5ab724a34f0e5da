# expect: reject-at-runtime
# policy: scene-edit
# attack: x.__class__ is readable; walk on to __mro__ with getattr
mro = getattr(().__class__, '__m' + 'ro__')
print('KGESC' + 'APE', mro)
