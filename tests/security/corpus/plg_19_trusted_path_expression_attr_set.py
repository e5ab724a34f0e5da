# expect: reject-at-runtime
# policy: trusted
# attack: in-process, setting a pathExpression-typed attribute from a str parses it with the recursive
#   path-expression parser: 50,000 nested parentheses overflow the host's stack.
from pxr import Sdf
attr = stage.DefinePrim("/World/C").CreateAttribute("expr", Sdf.ValueTypeNames.PathExpression)
attr.Set("(" * 50000 + "/World" + ")" * 50000)
