# expect: reject-at-runtime
# policy: scene-edit
# attack: lru_cache wrapper's __wrapped__ points at what it wraps
import functools
c = functools.lru_cache(maxsize=4)(len)
print('KGESC' + 'APE', getattr(c, '__wrap' + 'ped__'))
