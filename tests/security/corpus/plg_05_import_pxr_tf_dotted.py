# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: dotted import of a forbidden sibling: `import pxr.Tf as T`.
import pxr.Tf as T
T.Fatal("abort")
