# expect: reject-at-compile
# attack: async generator frame (ag_frame).
async def agen():
    yield 1
a = agen()
print("KGESC" + "APE", a.ag_frame)
