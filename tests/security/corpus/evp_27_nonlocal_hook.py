# expect: reject-at-compile
# policy: scene-edit
# attack: nonlocal naming a sandbox hook
def f():
    nonlocal _tick_
    _tick_ = None
f()
print('KGESC' + 'APE')
