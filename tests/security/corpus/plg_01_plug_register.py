# expect: reject-at-compile
# attack: Plug.Registry().RegisterPlugins on a directory whose plugInfo.json dlopens a library.
from pxr import Plug
plugins = Plug.Registry().RegisterPlugins("/tmp/kitgate-corpus-canary/plugins")
for p in plugins:
    p.Load()
