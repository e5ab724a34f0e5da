# expect: reject-at-compile
# attack: __reduce_ex__ hands back a constructor callable (copyreg) plus state.
r = stage.__reduce_ex__(2)
print("KGESC" + "APE", r)
