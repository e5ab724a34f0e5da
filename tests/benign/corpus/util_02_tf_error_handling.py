# expect: accept
# what: catch Tf.ErrorException from invalid USD calls and continue, as robust agent code does.
from pxr import Sdf, Tf, UsdGeom

attempts = ["/World/Good", "/World/Also_Good", "relative/path", "/World/Bad Name"]
created, failed = [], []
for path in attempts:
    try:
        prim = UsdGeom.Xform.Define(stage, path)
        if not prim:
            raise ValueError("Define returned an invalid prim")
        created.append(path)
    except Tf.ErrorException as err:
        failed.append((path, "Tf.ErrorException", str(err).strip().splitlines()[-1][:60]))
    except ValueError as err:
        failed.append((path, "ValueError", str(err)))

print("created:", created)
for path, kind, message in failed:
    print(f"failed: {path!r} {kind}")
print("path ok:", Sdf.Path.IsValidPathString("/World/Bad Name"), Sdf.Path.IsValidIdentifier("Bad Name"))
