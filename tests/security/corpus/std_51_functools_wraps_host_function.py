# expect: reject-at-runtime
# policy: scene-edit
# attack: functools.wraps writes __name__/__doc__/__wrapped__/__dict__ onto its argument: relabel a shared
#   stdlib function (statistics.mean) for every later job in the process.
import functools, statistics
def fake():
    "KGESCAPE-doc"
functools.wraps(fake)(statistics.mean)
print("KGESC" + "APE", statistics.mean.__name__)
