# expect: reject-at-compile
# attack: __context__/__cause__ of a host exception leak host exception objects.
try:
    try:
        1 / 0
    except ZeroDivisionError:
        raise ValueError("wrap")
except ValueError as exc:
    inner = exc.__context__
    print("KGESC" + "APE", inner.__traceback__)
