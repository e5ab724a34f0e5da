# expect: reject-at-compile
# attack: id() + memoryview to read raw process memory around an object.
addr = id(stage)
mv = memoryview(b"x" * 16)
print("KGESC" + "APE", addr, mv)
