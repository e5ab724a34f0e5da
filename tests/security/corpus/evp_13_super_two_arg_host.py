# expect: reject-at-runtime
# policy: scene-edit
# attack: two-argument super() on a host type to reach its base's methods
s = super(int, 5)
print('KGESC' + 'APE', s.__repr__())
