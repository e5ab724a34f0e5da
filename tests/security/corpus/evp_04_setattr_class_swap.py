# expect: reject-at-runtime
# policy: scene-edit
# attack: setattr(obj, '__class__', ...) to retype a script object
class A:
    pass
a = A()
setattr(a, '__cla' + 'ss__', int)
print('KGESC' + 'APE', a)
