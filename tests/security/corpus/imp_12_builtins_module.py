# expect: reject-at-compile
# attack: import the builtins module to get the real open/eval back.
import builtins
builtins.open("/tmp/kitgate-corpus-canary/ESCAPED-imp_12", "w").write("x")
print("KGESC" + "APE", builtins.open("/tmp/kitgate-corpus-canary/secret.txt").read())
