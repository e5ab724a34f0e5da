# expect: reject-at-runtime
# attack: format-string traversal through frame attributes that carry no underscore
#   (gi_frame.f_back.f_globals): the compiler's INSPECT list only covers attribute syntax.
def gen():
    yield 1
g = gen()
print("KGESC" + "APE", "{0.gi_frame.f_globals}".format(g))
