# expect: reject-at-runtime
# policy: scene-edit
# neutralised: translate must be called on an instance; str.translate(s, table) would skip the guard
# attack: the unbound method from the class takes the string as an argument, around the instance guard
table = str.maketrans({'a': 'x' * 100000})
print('KGESC' + 'APE', len(str.translate('a' * 200000, table)))
