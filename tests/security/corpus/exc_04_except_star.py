# expect: reject-at-compile
# attack: try/except* type confusion (ExceptionGroup) known to break RestrictedPython guards.
try:
    raise ExceptionGroup("g", [ValueError(1)])
except* ValueError as eg:
    print("KGESC" + "APE", eg.exceptions)
