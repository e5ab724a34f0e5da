# expect: reject-at-runtime
# attack: Sdf.FileFormat.CanRead as a file-existence oracle outside the roots.
from pxr import Sdf
fmt = Sdf.FileFormat.FindById("usda")
print("KGESC" + "APE", fmt.CanRead("/etc/shadow"), fmt.CanRead("/root/.ssh/id_rsa"))
