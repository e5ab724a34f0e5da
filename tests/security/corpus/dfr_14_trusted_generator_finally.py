# expect: reject-at-runtime
# policy: trusted
# attack: in-process, a suspended generator left in the job's globals runs its finally when the host
#   drops the globals; it captured `stage.DefinePrim` while the job ran, so the late call needs no
#   guard hook. The job itself ends with a refused export, so the late edit must be rolled back too.
def trap():
    define = stage.DefinePrim
    try:
        yield 1
    finally:
        define("/LateEdit", "Xform")
keep = trap()
first = next(keep)
stage.GetRootLayer().Export("/tmp/kitgate-corpus-canary/ESCAPED-dfr_14.usda")
