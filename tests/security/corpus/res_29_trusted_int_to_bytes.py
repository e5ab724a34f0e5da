# expect: limit
# policy: trusted
# attack: in-process, int.to_bytes(length) is a sized constructor the allocation guard does not know:
#   2.5 GB zero-filled inside the host (policy memory_mb = 2048; no rlimit in-process).
v = (1).to_bytes(25 * 10 ** 8, "big")
print(len(v))
