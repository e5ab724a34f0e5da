# expect: accept
# what: exact unit conversions (inches/feet to metres) with Decimal and Fraction for a CAD-import cleanup.
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from pxr import Gf, UsdGeom

INCH = Decimal("0.0254")
parts = {"Shelf": ("23 1/2", "11 1/4"), "Door": ("30", "80"), "Trim": ("3/4", "96")}


def inches(text: str) -> Fraction:
    return sum((Fraction(t) for t in text.split()), Fraction(0))


for name, (w, h) in parts.items():
    w_m = (Decimal(inches(w).numerator) / Decimal(inches(w).denominator) * INCH).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    h_m = (Decimal(inches(h).numerator) / Decimal(inches(h).denominator) * INCH).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    board = UsdGeom.Cube.Define(stage, f"/World/Cabinet/{name}")
    board.CreateSizeAttr(1.0)
    board.AddScaleOp().Set(Gf.Vec3f(float(w_m), float(h_m), 0.02))
    print(f"{name:6s} {str(inches(w)):>6} x {str(inches(h)):>4} in = {w_m} x {h_m} m")

total_area = sum(inches(w) * inches(h) for w, h in parts.values())
print("total area (sq in):", total_area, "=", float(total_area))
