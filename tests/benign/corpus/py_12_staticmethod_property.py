# expect: accept
# what: helper class with @staticmethod and @property, a module-level counter updated via `global`.
from pxr import UsdGeom, Gf

created = 0


class Shelf:
    def __init__(self, root: str, levels: int):
        self.root = root
        self.levels = levels

    @staticmethod
    def board_path(root: str, i: int) -> str:
        return f"{root}/Board{i}"

    @property
    def height(self) -> float:
        return self.levels * 0.4

    def build(self) -> None:
        global created
        for i in range(self.levels):
            board = UsdGeom.Cube.Define(stage, Shelf.board_path(self.root, i))
            board.AddTranslateOp().Set(Gf.Vec3d(0, i * 0.4, 0))
            board.AddScaleOp().Set(Gf.Vec3f(1.0, 0.02, 0.3))
            created += 1


shelf = Shelf("/World/Shelf", 5)
shelf.build()
print("created", created, "boards; shelf height", shelf.height)
