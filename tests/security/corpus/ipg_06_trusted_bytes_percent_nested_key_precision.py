# expect: limit
# policy: trusted
# neutralised: bytes use the same %-parser; the precision of %d pads with zeros and is bounded too
# attack: in-process, bytes %-formatting with a doubly nested key and a huge precision.
s = b"%(k((x)))+.300000000d" % {b"k((x))": 5}
print(len(s))
