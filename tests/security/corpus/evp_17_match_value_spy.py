# expect: reject-at-runtime
# policy: scene-edit
# attack: a value pattern `stage.Export` is read with the real getattr and handed to a spying __eq__
class Spy:
    def __eq__(self, other):
        other('/tmp/kitgate-corpus-canary/ESCAPED-evp_17')
        return True
match Spy():
    case stage.Export:
        print('KGESC' + 'APE')
