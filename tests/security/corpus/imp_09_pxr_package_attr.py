# expect: reject-at-runtime
# attack: `import pxr` (bare package) and walk to siblings the policy does not list (Plug, UsdUtils,
#   Ar) through the package object.
import pxr
plug = pxr.Plug
print("KGESC" + "APE", plug)
plug.Registry().RegisterPlugins("/tmp/kitgate-corpus-canary/plugins")
