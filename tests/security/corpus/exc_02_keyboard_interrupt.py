# expect: reject-at-compile
# attack: raise KeyboardInterrupt to make the worker think it was interrupted by the operator.
stage.DefinePrim("/Half", "Xform")
raise KeyboardInterrupt
