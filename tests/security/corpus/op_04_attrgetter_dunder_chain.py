# expect: reject-at-runtime
# policy: scene-edit
# neutralised: attrgetter walks each dotted part through the same guard as the dot; underscore parts refused
# attack: a dotted attrgetter path walks object's subclasses without one attribute in the source
from operator import attrgetter
walk = attrgetter('__class__.__base__.__subclasses__')
print('KGESC' + 'APE', walk(())())
