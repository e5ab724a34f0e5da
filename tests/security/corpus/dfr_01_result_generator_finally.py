# expect: accept
# neutralised: the result is converted to a {"type": ...} placeholder inside the child; the test checks
#   that the generator's finally never edits the stage or prints after the job.
# attack: result is a suspended generator whose finally edits the stage and prints when the host
#   closes or collects it, i.e. after the job's limits and output capture are gone.
def trap():
    try:
        yield 1
    finally:
        stage.DefinePrim("/LateEdit", "Xform")
        print("KGESC" + "APE", "late finally ran")
result = trap()
first = next(result)
