# expect: reject-at-runtime
# policy: scene-edit
# attack: functools.reduce(getattr, ...) walks a dunder chain without attribute syntax
import functools
chain = functools.reduce(getattr, ['__class__', '__base__', '__subclasses__'], ())
print('KGESC' + 'APE', chain())
