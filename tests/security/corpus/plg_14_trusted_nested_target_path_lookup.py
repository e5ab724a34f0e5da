# expect: reject-at-runtime
# policy: trusted
# attack: in-process, any pxr call that converts a str to an SdfPath parses it, and the path parser
#   recurses once per nested target `[...]`: 50,000 levels (250 KB) segfault the host. Here through
#   GetPrimAtPath, which has no path-taking guard of its own.
s = "/A.r[" * 50000 + "/B" + "]" * 50000
print(stage.GetPrimAtPath(s))
