# expect: reject-at-runtime
# policy: scene-edit
# attack: a module's private globals through the proxy
import json
print('KGESC' + 'APE', json._default_encoder)
