# expect: reject-at-runtime
# policy: trusted
# neutralised: attribute writes on native objects walk their value like call arguments
# attack: in-process, customLayerData whose value is a list nested 100,000 deep, set as a property.
v = []
for i in range(100000):
    v = [v]
stage.GetRootLayer().customLayerData = {"tags": v}
