# expect: reject-at-runtime
# policy: scene-edit
# neutralised: the composition budget counts payloads whether or not the job's stage loaded them
# attack: the job unloads everything, then builds a 24-level payload diamond its own stage never composes; a host stage that loads all composes 2^24 nodes.
stage.Unload("/")
for i in range(25):
    for n in "AB":
        prim = stage.DefinePrim("/%s%d" % (n, i))
        if i < 24:
            prim.GetPayloads().AddInternalPayload("/A%d" % (i + 1))
            prim.GetPayloads().AddInternalPayload("/B%d" % (i + 1))
