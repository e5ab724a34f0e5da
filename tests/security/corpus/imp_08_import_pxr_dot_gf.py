# expect: reject-at-runtime
# attack: `import pxr.Gf` binds the whole `pxr` package, whose attributes reach every loaded
#   sibling (UsdUtils, Tf, Plug, Ar). Must yield a proxy, never the real package.
import pxr.Gf
utils = pxr.UsdUtils
print("KGESC" + "APE", utils)
utils.complianceChecker.os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_08")
