# expect: reject-at-runtime
# policy: scene-edit
# attack: copy a sandbox helper (the sublayer list holds the job context) to duplicate its internals
import copy
subs = stage.GetRootLayer().subLayerPaths
dup = copy.copy(subs)
print('KGESC' + 'APE', dup)
