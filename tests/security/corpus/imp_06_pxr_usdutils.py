# expect: reject-at-compile
# attack: UsdUtils submodules expose live os/sys as public attributes.
from pxr import UsdUtils
import pxr.UsdUtils.complianceChecker as cc
cc.os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_06")
print("KGESC" + "APE", UsdUtils)
