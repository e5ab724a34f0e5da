# expect: reject-at-compile
# policy: scene-edit
# attack: type() with three arguments builds a class with arbitrary dunders
Evil = type('Evil', (), {'__del__': lambda self: None})
print('KGESC' + 'APE', Evil)
