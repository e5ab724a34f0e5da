# expect: reject-at-runtime
# policy: scene-edit
# attack: functools.partial(...).func of a bound builtin, then its __self__
import functools
p = functools.partial(print, 1)
print('KGESC' + 'APE', getattr(p.func, '__se' + 'lf__'))
