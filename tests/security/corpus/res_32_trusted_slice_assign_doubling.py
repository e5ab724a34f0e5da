# expect: limit
# policy: trusted
# attack: F11 variant, in-process: slice assignment at the end (`b[len(b):] = b`) doubles a container in
#   one C call; 40 rounds would be 2**41 bytes in the host. (The list form `l[len(l):] = l` takes the same
#   guard and is tested with a small policy in tests/sandbox/test_runtime.py, to keep this corpus light.)
b = bytearray(b"ab")
for i in range(40):
    b[len(b):] = b
