# expect: reject-at-runtime
# attack: `from pxr import Kind` is allowed (for Kind.Tokens and the read-only Kind.Registry queries), so try
#   the rest of the real module and class through the import proxy: the registry's unlisted members.
from pxr import Kind
registry = Kind.Registry
print("KGESC" + "APE", registry.expired, registry.GetAllKinds())
