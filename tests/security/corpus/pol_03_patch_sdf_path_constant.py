# expect: reject-at-runtime
# attack: overwrite a class-level constant the host relies on (Sdf.Path.absoluteRootPath).
from pxr import Sdf
Sdf.Path.absoluteRootPath = Sdf.Path("/Evil")
