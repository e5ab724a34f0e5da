# expect: reject-at-compile
# attack: operator.attrgetter takes dotted dunder names as a runtime string.
import operator
walk = operator.attrgetter("__class__.__base__.__subclasses__")
print("KGESC" + "APE", walk(())())
