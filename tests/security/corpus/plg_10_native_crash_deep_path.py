# expect: reject-at-runtime
# attack: native stack overflow through an allowed API: DefinePrim on a 50,000-level prim path makes
#   USD recurse until the process segfaults (contained in the isolated child, fatal in-process).
#   The sandbox should refuse absurd path depths before handing them to USD.
path = "/" + "/".join(["P"] * 50000)
stage.DefinePrim(path, "Xform")
