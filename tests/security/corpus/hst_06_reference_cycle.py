# expect: reject-at-runtime
# policy: scene-edit
# neutralised: cycles of internal arcs are refused by the composition budget walk (DeltaRejected) instead of being left to the host
# attack: a reference/inherit cycle between two prims, handed to the host to detect and report on its own thread.
a = stage.DefinePrim("/World/CycA")
b = stage.DefinePrim("/World/CycB")
a.GetReferences().AddInternalReference("/World/CycB")
b.GetInherits().AddInherit("/World/CycA")
