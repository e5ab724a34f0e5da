# expect: limit
# attack: define ten million prims on the stage (CPU, memory and delta size).
for i in range(10_000_000):
    stage.DefinePrim(f"/Flood/P{i}", "Xform")
