# expect: reject-at-runtime
# policy: trusted
# neutralised: in-process, pxr calls check string arguments (native.py) before the C++ parser sees them
# attack: a deeply nested package path fed to the C++ identifier parser on the host's main thread
from pxr import Sdf
deep = 'a.usdz[' * 400000 + 'b.usda' + ']' * 400000
print('KGESC' + 'APE', len(Sdf.Layer.GetDisplayNameFromIdentifier(deep)))
