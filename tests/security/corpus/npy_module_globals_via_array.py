# expect: reject-at-runtime
# policy: scene-edit
# attack: walk from an allowed array to numpy's module globals with computed dunder names
# attack: (__array_interface__ leaks the data pointer, __class__.__module__ / __reduce__ reach numpy)
import numpy as np
a = np.zeros(3)
iface = getattr(a, '__array_' + 'interface__')
red = getattr(a, '__red' + 'uce__')()
print('KGESC' + 'APE', iface, red)
