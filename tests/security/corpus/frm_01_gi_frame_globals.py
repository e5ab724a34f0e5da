# expect: reject-at-compile
# attack: a generator's gi_frame.f_globals reaches the real module globals.
def gen():
    yield 1
g = gen()
print("KGESC" + "APE", g.gi_frame.f_globals)
