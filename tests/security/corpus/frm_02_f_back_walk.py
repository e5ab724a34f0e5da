# expect: reject-at-compile
# attack: walk f_back from a generator frame up into the executor's own frames.
def gen():
    yield 1
g = gen()
next(g)
f = g.gi_frame
while f is not None:
    print("KGESC" + "APE", f.f_code.co_filename)
    f = f.f_back
