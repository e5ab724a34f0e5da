# expect: reject-at-runtime
# policy: scene-edit
# neutralised: attrgetter refuses underscore names outright (write a lambda for the script's own `_x`)
# attack: a `_x_`-style reserved name through attrgetter on a script class
from operator import attrgetter
class A:
    pass
print('KGESC' + 'APE', attrgetter('_getattr_')(A()))
