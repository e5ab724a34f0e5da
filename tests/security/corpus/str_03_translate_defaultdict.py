# expect: reject-at-runtime
# policy: scene-edit
# neutralised: str.translate takes only a plain dict; a dict subclass's __missing__ would build values lazily
# attack: a defaultdict table looks empty to a size check, then fills every miss with a long string
import collections
table = collections.defaultdict(lambda: 'y' * 1000000)
out = ('abc' * 100000).translate(table)
print('KGESC' + 'APE', len(out))
