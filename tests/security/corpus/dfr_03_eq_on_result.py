# expect: accept
# neutralised: the result is converted to a {"type": ...} placeholder inside the child, so the host never
#   compares it; the test checks that __eq__ never ran (no late edit, no output).
# attack: a result object with __eq__ (allowed by RestrictedPython) that edits the stage and prints
#   when the host compares or deduplicates it.
class Sticky:
    def __eq__(self, other):
        stage.DefinePrim("/LateEq", "Xform")
        print("KGESC" + "APE", "eq ran in host")
        return True
result = [Sticky(), Sticky()]
