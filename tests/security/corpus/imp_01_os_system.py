# expect: reject-at-compile
# attack: plain `import os`, then run a shell command that drops a marker file.
import os
os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_01")
print("KGESC" + "APE", os.environ.get("KITGATE_CANARY_ENV"))
