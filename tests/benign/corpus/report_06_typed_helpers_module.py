# expect: accept
# what: a small "module" of typed helpers (Optional/Iterable/Callable), used by a main() behind a __main__ guard.
from typing import Callable, Iterable, Iterator, Optional

from pxr import Usd, UsdGeom


def iter_prims(stage: Usd.Stage, predicate: Optional[Callable[[Usd.Prim], bool]] = None) -> Iterator[Usd.Prim]:
    for prim in stage.Traverse():
        if predicate is None or predicate(prim):
            yield prim


def find_first(prims: Iterable[Usd.Prim], name: str) -> Optional[Usd.Prim]:
    return next((p for p in prims if p.GetName() == name), None)


def is_gprim(prim: Usd.Prim) -> bool:
    return prim.IsA(UsdGeom.Gprim)


def main() -> None:
    for i in range(5):
        UsdGeom.Sphere.Define(stage, f"/World/Orbs/Orb{i}").CreateRadiusAttr(0.2 * (i + 1))
    gprims = list(iter_prims(stage, is_gprim))
    print("gprims:", [p.GetName() for p in gprims])
    orb = find_first(gprims, "Orb3")
    print("found:", orb.GetPath() if orb else None)
    missing = find_first(gprims, "Orb9")
    print("missing:", missing)


if __name__ == "__main__":
    main()
