# expect: reject-at-compile
# attack: a background thread keeps running after the job reports success.
import threading
threading.Timer(0.5, lambda: print("KGESC" + "APE")).start()
