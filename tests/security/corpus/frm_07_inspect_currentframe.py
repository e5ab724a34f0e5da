# expect: reject-at-compile
# attack: inspect.currentframe() and inspect.stack() give live frames.
import inspect
fr = inspect.currentframe()
print("KGESC" + "APE", fr.f_back.f_globals, inspect.stack())
