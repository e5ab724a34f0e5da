# expect: reject-at-runtime
# policy: scene-edit
# attack: getattr reaches a method the type's allow-list does not name
save = getattr(stage, 'Save')
save()
print('KGESC' + 'APE')
