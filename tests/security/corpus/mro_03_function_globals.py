# expect: reject-at-compile
# attack: a script function's __globals__ holds the guard hooks and __builtins__.
def f():
    return 1
g = f.__globals__
print("KGESC" + "APE", sorted(g))
