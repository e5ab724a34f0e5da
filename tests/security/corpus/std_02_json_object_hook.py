# expect: reject-at-runtime
# policy: scene-edit
# attack: json.loads object_hook runs a callable on every decoded dict (here a guarded builtin used as a probe)
import json
seen = json.loads('{"a": 1}', object_hook=lambda d: print('KGESC' + 'APE', d))
