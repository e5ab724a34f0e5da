# expect: reject-at-compile
# policy: scene-edit
# attack: import numpy.ctypeslib to load a shared library
from numpy import ctypeslib
print('KGESC' + 'APE', ctypeslib.load_library('libc', '/lib'))
