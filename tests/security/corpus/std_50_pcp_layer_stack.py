# expect: reject-at-runtime
# policy: scene-edit
# attack: Pcp queries are read-only; a node's layerStack (and its layers) is not listed
prim = stage.DefinePrim('/W', 'Xform')
node = prim.GetPrimIndex().rootNode
print('KGESC' + 'APE', node.layerStack)
