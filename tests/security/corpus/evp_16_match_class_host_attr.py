# expect: reject-at-runtime
# policy: scene-edit
# attack: class patterns read attributes with the real getattr: grab Stage.Save via a pattern
from pxr import Usd
match stage:
    case Usd.Stage(Save=save):
        save()
        print('KGESC' + 'APE')
