# expect: reject-at-compile
# policy: scene-edit
# attack: **kwargs in a class header could smuggle metaclass=
kw = {'metaclass': print}
class A(**kw):
    pass
print('KGESC' + 'APE')
