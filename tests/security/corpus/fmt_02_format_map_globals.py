# expect: reject-at-runtime
# attack: format_map traversal into a script function's __globals__.
def f():
    return 1
print("KGESC" + "APE", "{fn.__globals__}".format_map({"fn": f}))
