# expect: reject-at-runtime
# policy: readonly
# attack: under `readonly`, edit the stage anyway (define, remove, reference) hoping the edits survive.
stage.DefinePrim("/Sneaky", "Xform")
stage.RemovePrim("/World")
