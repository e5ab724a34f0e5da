# expect: reject-at-compile
# policy: scene-edit
# attack: typing.ForwardRef._evaluate runs eval on its string
from typing import ForwardRef
print('KGESC' + 'APE', ForwardRef('1+1'))
