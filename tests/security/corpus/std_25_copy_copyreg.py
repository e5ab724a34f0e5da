# expect: reject-at-runtime
# policy: scene-edit
# attack: copy's module globals reach copyreg (and its dispatch tables)
import copy
reg = copy.dispatch_table
print('KGESC' + 'APE', reg)
