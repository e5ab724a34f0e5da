# expect: reject-at-compile
# attack: importlib.import_module with a computed name defeats a static import scan.
import importlib
mod = importlib.import_module("o" + "s")
mod.system("touch /tmp/kitgate-corpus-canary/ESCAPED-imp_04")
