# expect: reject-at-compile
# attack: a bound method's __self__/__func__ leaks the underlying object.
m = stage.GetRootLayer
inner = m.__self__
print("KGESC" + "APE", inner, m.__func__)
