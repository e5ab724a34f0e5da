# expect: reject-at-compile
# attack: import the compiled extension module behind Usd (pxr.Usd._usd).
import pxr.Usd._usd as raw
print("KGESC" + "APE", raw.Stage)
