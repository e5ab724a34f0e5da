# expect: reject-at-compile
# attack: exec a string that imports os.
exec("import os; os.system('touch /tmp/kitgate-corpus-canary/ESCAPED-blt_02')")
