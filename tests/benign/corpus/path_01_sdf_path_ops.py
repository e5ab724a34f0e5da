# expect: accept
# what: Sdf.Path manipulation: append, parent, prefixes, property paths.
from pxr import Sdf

p = Sdf.Path("/World/Robot/Arm")
child = p.AppendChild("Hand")
prop = child.AppendProperty("grip")
print(child, child.GetParentPath(), child.name)
print(prop, prop.IsPropertyPath(), prop.GetPrimPath())
print([str(x) for x in child.GetPrefixes()])
print(child.HasPrefix(Sdf.Path("/World")), child.MakeRelativePath(Sdf.Path("/World")))
print(Sdf.Path.IsValidIdentifier("Hand_01"), Sdf.Path.IsValidPathString("/a/b"))
