# expect: reject-at-compile
# attack: gi_code / f_code.co_consts of a generator to read compiled constants of the runner.
def gen():
    yield 1
g = gen()
print("KGESC" + "APE", g.gi_code.co_consts, g.gi_yieldfrom)
