# expect: reject-at-runtime
# policy: scene-edit
# attack: type aliased so the compiler cannot see the three-argument call
t = type
Evil = t('Evil', (), {})
print('KGESC' + 'APE', Evil)
