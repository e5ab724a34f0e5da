# expect: reject-at-compile
# attack: reach every loaded module (os included) through sys.modules.
import sys
os = sys.modules["os"]
os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_03")
