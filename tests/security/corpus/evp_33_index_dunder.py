# expect: reject-at-compile
# policy: scene-edit
# attack: __index__ lets C code trust a script object as a size ([0] * obj)
class N:
    def __index__(self):
        return 10**11
print('KGESC' + 'APE', len([0] * N()))
