# expect: limit
# policy: trusted
# attack: in-process, grow a list by extending it with itself 28 times: 2**28 items (~2.1 GB of
#   pointers) in the host, above memory_mb = 2048, although `l += l`, `l *= 2` and `l + l` are guarded.
l = [1]
for i in range(28):
    l.extend(l)
n = len(l)
