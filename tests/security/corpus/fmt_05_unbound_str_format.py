# expect: reject-at-runtime
# attack: call str.format unbound, so the guarded object is the type str, not an instance.
fmt = str.format
print("KGESC" + "APE", fmt("{0.__class__.__base__}", stage))
