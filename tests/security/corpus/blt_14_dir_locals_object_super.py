# expect: reject-at-compile
# attack: dir/locals/object/super to enumerate and rebuild hidden objects.
names = dir(object)
here = locals()
print("KGESC" + "APE", names, here, super)
