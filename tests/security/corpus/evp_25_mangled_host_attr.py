# expect: reject-at-runtime
# policy: scene-edit
# attack: private-name mangling inside a class turns __x into _A__x on a host object
class A:
    def f(self):
        return stage.__impl
print('KGESC' + 'APE', A().f())
