# expect: reject-at-compile
# attack: install a SIGTERM/SIGALRM handler so the wall-clock kill runs our code instead.
import signal
signal.signal(signal.SIGTERM, lambda *a: None)
signal.signal(signal.SIGALRM, lambda *a: None)
while True:
    pass
