# expect: reject-at-compile
# attack: catch an exception and climb its traceback to the runner's frame locals.
try:
    1 / 0
except ZeroDivisionError as exc:
    tb = exc.__traceback__
    while tb.tb_next:
        tb = tb.tb_next
    print("KGESC" + "APE", tb.tb_frame.f_back.f_locals)
