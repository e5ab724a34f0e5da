# expect: reject-at-compile
# attack: from-import a name directly out of a forbidden pxr module.
from pxr.Plug import Registry
print("KGESC" + "APE", Registry().GetAllPlugins())
