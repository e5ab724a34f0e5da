# expect: reject-at-compile
# policy: scene-edit
# attack: class pattern keyword naming a private attribute
class P:
    pass
match P():
    case P(__dict__=d):
        print('KGESC' + 'APE', d)
