# expect: reject-at-runtime
# policy: trusted
# attack: in-process, the deep path hides inside a list argument after a valid one: SetTargets converts
#   every element to an SdfPath, parsing the nested targets on the host's stack.
rel = stage.DefinePrim("/World/R").CreateRelationship("r")
rel.SetTargets(["/World", "/A.r[" * 50000 + "/B" + "]" * 50000])
