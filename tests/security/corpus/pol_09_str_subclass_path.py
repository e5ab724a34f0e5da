# expect: reject-at-runtime
# attack: a str subclass whose startswith/split lie, so a path check written with string methods
#   believes an outside path lies under the asset root.
from pxr import Sdf
class Sneaky(str):
    def startswith(self, *args):
        return True
    def split(self, *args):
        return ["", "assets", "ok.usda"]
layer = Sdf.Layer.CreateNew(Sneaky("/tmp/kitgate-corpus-canary/ESCAPED-pol_09.usda"))
layer.Save()
