# expect: accept
# neutralised: nested non-JSON values become {"type": ...} placeholders inside the child; the test checks
#   the generator body never ran (stage unchanged, no output).
# attack: a generator object hidden inside a nested result structure; iterating it edits the stage.
def g():
    stage.DefinePrim("/LateGen", "Xform")
    print("KGESC" + "APE", "generator ran")
    yield 1
result = {"ok": True, "items": [1, 2, {"lazy": g()}]}
