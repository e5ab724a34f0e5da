# expect: reject-at-runtime
# policy: scene-edit
# attack: getattr(ScriptClass, '__subclasses__')
class A:
    pass
print('KGESC' + 'APE', getattr(A, '__subcla' + 'sses__')())
