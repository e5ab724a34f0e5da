# expect: reject-at-compile
# attack: import a forbidden module under the name of an allowed one (`import os as Gf`).
import os as Gf
Gf.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_13")
