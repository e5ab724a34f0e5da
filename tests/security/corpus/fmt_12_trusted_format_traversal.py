# expect: reject-at-runtime
# policy: trusted
# attack: format-string attribute traversal in-process, where a miss means host globals.
def f():
    return 1
print("KGESC" + "APE", "{0.__globals__}".format(f))
