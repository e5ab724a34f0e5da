# expect: reject-at-runtime
# attack: iter(callable, sentinel) makes an endless C-level iterator (iter(int, 1) never returns 1):
#   max() over it spins in C forever, where no tick can stop it.
print(max(iter(int, 1)))
