# expect: reject-at-runtime
# policy: trusted
# neutralised: native.check_value walks containers level by level (depth and item budget)
# attack: in-process, a dict nested 100,000 deep handed to SetCustomData is converted to a
#   VtDictionary recursively and overflows the host's stack.
d = {}
cur = d
for i in range(100000):
    nxt = {}
    cur["k"] = nxt
    cur = nxt
stage.DefinePrim("/World").SetCustomData(d)
