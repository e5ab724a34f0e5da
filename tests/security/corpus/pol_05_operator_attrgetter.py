# expect: reject-at-runtime
# neutralised: operator is a vetted module now; attrgetter refuses underscore parts and reads through the dot guard
# attack: operator.attrgetter takes dotted dunder names as a runtime string.
import operator
walk = operator.attrgetter("__class__.__base__.__subclasses__")
print("KGESC" + "APE", walk(())())
