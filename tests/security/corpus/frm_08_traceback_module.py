# expect: reject-at-compile
# attack: traceback.extract_stack / walk_stack leak host file paths and frames.
import traceback
print("KGESC" + "APE", traceback.extract_stack())
for frame, lineno in traceback.walk_stack(None):
    print(frame.f_locals)
