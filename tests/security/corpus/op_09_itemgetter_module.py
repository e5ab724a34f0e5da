# expect: reject-at-runtime
# policy: scene-edit
# neutralised: itemgetter reads through the runtime's _getitem_ (modules cannot be subscripted, `_x` keys refused)
# attack: use itemgetter to subscript a module proxy, reaching its resolved-name table
import json
from operator import itemgetter
print('KGESC' + 'APE', itemgetter('_kg_values')(json))
