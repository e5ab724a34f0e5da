# expect: reject-at-runtime
# policy: scene-edit
# attack: reach json's submodules (decoder -> scanner -> re/sys) through the module proxy
import json
dec = json.decoder
print('KGESC' + 'APE', dec.scanner)
