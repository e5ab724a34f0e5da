# expect: reject-at-runtime
# policy: scene-edit
# neutralised: str.translate takes only a plain dict (what str.maketrans returns)
# attack: a script object as the table answers every lookup with a megabyte string, invisible to a size check
class Table:
    def __getitem__(self, key):
        return 'x' * 1000000
out = ('a' * 100000).translate(Table())
print('KGESC' + 'APE', len(out))
