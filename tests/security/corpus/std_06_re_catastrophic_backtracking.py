# expect: limit
# policy: scene-edit
# attack: catastrophic backtracking runs inside one C call; only the isolated child's time limit stops it
import re
m = re.match(r'(a+)+$', 'a' * 64 + 'b')
print('KGESC' + 'APE', m)
