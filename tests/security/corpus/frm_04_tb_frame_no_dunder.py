# expect: reject-at-compile
# attack: traceback access without any underscore: tb_frame/f_back spelled directly on a sys.exc_info result.
import sys
tb = sys.exc_info()[2]
print("KGESC" + "APE", tb.tb_frame.f_back)
