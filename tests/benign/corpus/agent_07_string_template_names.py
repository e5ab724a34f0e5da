# expect: accept
# what: pipeline naming from string.Template and str.format specs; sanitize with a translation table.
import string

from pxr import UsdGeom

SHOT_TEMPLATE = string.Template("/World/Shots/${seq}_${shot}/${asset}_${variant}")
BAD = "- .:"
table = str.maketrans({c: "_" for c in BAD})

entries = [
    {"seq": "SQ010", "shot": "SH0010", "asset": "hero-car", "variant": "clean"},
    {"seq": "SQ010", "shot": "SH0020", "asset": "hero car", "variant": "damaged.v2"},
    {"seq": "SQ020", "shot": "SH0010", "asset": "street:lamp", "variant": "on"},
]
for entry in entries:
    safe = {k: v.translate(table) for k, v in entry.items()}
    path = SHOT_TEMPLATE.substitute(safe)
    UsdGeom.Xform.Define(stage, path)
    print(f"{entry['asset']!r:16} -> {path}")

letters = sum(ch in string.ascii_letters for ch in "".join(e["asset"] for e in entries))
print("letters in asset names:", letters)
print("shots:", sorted(p.GetName() for p in stage.GetPrimAtPath("/World/Shots").GetChildren()))
