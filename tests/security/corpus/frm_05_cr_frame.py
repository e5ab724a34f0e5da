# expect: reject-at-compile
# attack: coroutine frame (cr_frame) instead of generator frame.
async def co():
    return 1
c = co()
print("KGESC" + "APE", c.cr_frame.f_globals)
