# expect: reject-at-runtime
# policy: trusted
# neutralised: no "scan only short lists" shortcut: every level is walked at C speed
# attack: in-process, the deep dict hides behind 5,000 harmless items, past the old 1,000-item scan.
d = {}
cur = d
for i in range(100000):
    nxt = {}
    cur["k"] = nxt
    cur = nxt
stage.DefinePrim("/World").SetMetadata("customData", {"a": [0] * 5000 + [d]})
