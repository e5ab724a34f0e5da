# expect: limit
# policy: scene-edit
# attack: type(b'') used as an unguarded bytes constructor
big = type(b'')(10**11)
print('KGESC' + 'APE', len(big))
