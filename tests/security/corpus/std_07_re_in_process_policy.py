# expect: reject-at-compile
# policy: trusted
# attack: re in an in-process policy: a backtracking pattern would hang the host
import re
print('KGESC' + 'APE', re.match(r'(a+)+$', 'a' * 64 + 'b'))
