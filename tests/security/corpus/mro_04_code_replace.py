# expect: reject-at-compile
# attack: rewrite a function's __code__ to drop the guards.
def f():
    return 1
def g():
    return 2
f.__code__ = g.__code__.replace(co_names=("open",))
