# expect: reject-at-compile
# attack: sys.settrace/setprofile installs a hook that sees every later frame in the process.
import sys
sys.settrace(lambda frame, event, arg: print("KGESC" + "APE", frame.f_globals))
