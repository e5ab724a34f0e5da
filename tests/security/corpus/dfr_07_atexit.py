# expect: reject-at-compile
# attack: atexit.register runs code when the worker process exits.
import atexit
atexit.register(lambda: open("/tmp/kitgate-corpus-canary/ESCAPED-dfr_07", "w"))
