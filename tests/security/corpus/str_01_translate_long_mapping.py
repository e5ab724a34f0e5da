# expect: limit
# policy: scene-edit
# neutralised: str.translate's output size is computed from the table before the call (sandbox/stdlib.py)
# attack: one C call; a translation table maps one char to a long string, so the output is len * 100000
table = str.maketrans({'a': 'x' * 100000})
out = ('a' * 200000).translate(table)
print('KGESC' + 'APE', len(out))
