# expect: reject-at-runtime
# policy: scene-edit
# attack: @dataclass on a host class would rewrite its methods process-wide
from dataclasses import dataclass
from pxr import Sdf
X = dataclass(Sdf.Path)
print('KGESC' + 'APE', X)
