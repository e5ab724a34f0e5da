# expect: accept
# policy: trusted
# neutralised: the generator is closed when the job ends, after its context is closed: the captured
#   (guard-wrapped) DefinePrim refuses to run, the spin's first tick stops it, nothing is printed.
# attack: in-process, a suspended generator kept alive by a reference cycle runs its finally whenever the
#   host's garbage collector collects it, long after the job: a captured stage.DefinePrim edits the host
#   stage and the loop spins on the host's thread.
def trap(box):
    define = stage.DefinePrim
    try:
        yield 1
    finally:
        define("/LateEdit", "Xform")
        print("KGESC" + "APE", "late finally ran")
        while True:
            pass
box = []
gen = trap(box)
box.append(gen)
next(gen)
