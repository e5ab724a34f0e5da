# expect: reject-at-runtime
# policy: scene-edit
# attack: Pattern.scanner (unlisted) hands out an SRE scanner object
import re
sc = getattr(re.compile('a'), 'scanner')
print('KGESC' + 'APE', sc)
