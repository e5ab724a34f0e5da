# expect: reject-at-compile
# policy: scene-edit
# attack: super().__init_subclass__ / class-creation hooks
class A:
    def f(self):
        return super().__init_subclass__
print('KGESC' + 'APE', A().f())
