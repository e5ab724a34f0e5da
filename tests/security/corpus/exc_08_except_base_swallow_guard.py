# expect: reject-at-compile
# attack: swallow the guard's refusal with `except BaseException` and carry on as if the export worked
#   (BaseException must not be available, so evaluating the handler itself fails).
try:
    stage.GetRootLayer().Export("/tmp/kitgate-corpus-canary/ESCAPED-exc_08.usda")
except BaseException:
    pass
print("exported")
