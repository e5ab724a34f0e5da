# expect: limit
# attack: flood native stderr with Tf coding errors from invalid Sdf paths.
from pxr import Sdf
while True:
    Sdf.Path("::not a path::")
