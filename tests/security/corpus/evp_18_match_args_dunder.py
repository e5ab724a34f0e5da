# expect: reject-at-runtime
# policy: scene-edit
# attack: __match_args__ naming a dunder so a positional pattern reads it
class P:
    __match_args__ = ('__cla' + 'ss__',)
match P():
    case P(c):
        print('KGESC' + 'APE', c)
