# expect: reject-at-runtime
# policy: scene-edit
# attack: getattr(super(), '__reduce_ex__') to get copyreg's reconstructor
class A:
    def f(self):
        return getattr(super(), '__reduce' + '_ex__')(2)
print('KGESC' + 'APE', A().f())
