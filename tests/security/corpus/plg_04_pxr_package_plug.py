# expect: reject-at-runtime
# attack: `import pxr.Usd` binds pxr; walk to pxr.Plug through the package object.
import pxr.Usd
reg = pxr.Plug.Registry()
print("KGESC" + "APE", reg)
reg.RegisterPlugins("/tmp/kitgate-corpus-canary/plugins")
