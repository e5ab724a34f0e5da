# expect: reject-at-compile
# attack: dotted import of a forbidden sibling: `import pxr.Tf as T`.
import pxr.Tf as T
T.Fatal("abort")
