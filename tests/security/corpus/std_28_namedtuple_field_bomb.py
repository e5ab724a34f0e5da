# expect: limit
# policy: scene-edit
# attack: namedtuple builds and execs source text per field: a million fields
from collections import namedtuple
T = namedtuple('T', ['f%d' % i for i in range(1000000)])
print('KGESC' + 'APE', T)
