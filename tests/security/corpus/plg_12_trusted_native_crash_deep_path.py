# expect: reject-at-runtime
# policy: trusted
# attack: F7 in-process: DefinePrim on a 50,000-level prim path makes USD recurse until the process
#   segfaults; in-process that process is the host (Kit). Refused before USD sees the path.
path = "/" + "/".join(["P"] * 50000)
stage.DefinePrim(path, "Xform")
