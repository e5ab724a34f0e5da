# expect: limit
# policy: trusted
# attack: F11 variant, in-process: dict.update/set.update cannot double a container in one call (keys
#   deduplicate; updating a set from an iterator over itself raises), so growth needs a producer of new
#   keys, and every producer is capped: here range() beyond loop_iterations, before the C call.
s = set(range(1000))
s.update(map(abs, s))
d = dict.fromkeys(range(1000), 0)
d.update(zip(map(abs, d), d))
print(len(s), len(d))
s.update(range(10 ** 9))
