# expect: reject-at-compile
# policy: scene-edit
# attack: metaclass= in a class header (class keywords are otherwise allowed)
class M:
    pass
class A(metaclass=M):
    pass
print('KGESC' + 'APE')
