# expect: reject-at-runtime
# policy: scene-edit
# attack: functools.partial around the unbound str.format (its field lookups would be unguarded)
import functools
render = functools.partial(str.format, '{0.__class__.__base__}')
print('KGESC' + 'APE', render(stage))
