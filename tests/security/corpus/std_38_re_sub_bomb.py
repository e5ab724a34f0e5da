# expect: limit
# policy: scene-edit
# attack: re.sub with an empty pattern inserts the replacement between every character
import re
out = re.sub('', 'x' * 1000, 'a' * 1000000)
print('KGESC' + 'APE', len(out))
