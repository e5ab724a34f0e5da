# expect: reject-at-compile
# attack: Work/Trace/Ar: change process-wide thread limits, start tracing, replace the resolver context.
from pxr import Work, Trace, Ar
Work.SetConcurrencyLimit(1)
Trace.Collector().enabled = True
print("KGESC" + "APE", Ar.GetResolver())
