# expect: reject-at-runtime
# attack: format field with an index lookup on a dunder key: '{0[__builtins__]}'.
def f():
    return 1
print("KGESC" + "APE", "{0.__globals__[__builtins__]}".format(f))
