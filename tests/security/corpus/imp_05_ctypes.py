# expect: reject-at-compile
# attack: ctypes gives raw memory and libc: call system() directly.
import ctypes
libc = ctypes.CDLL(None)
libc.system(b"touch /tmp/kitgate-corpus-canary/ESCAPED-imp_05")
