# expect: reject-at-runtime
# attack: `from pxr import Kind` is allowed (for Kind.Tokens), so try the rest of the real module
#   through the import proxy: Kind.Registry can register new kinds process-wide.
from pxr import Kind
registry = Kind.Registry
print("KGESC" + "APE", registry, registry.GetAllKinds())
