"""The dependency rules of docs/architecture.md, read from the source without importing any of it.

Why a test: a layering that lives only in a document drifts the first time a quick fix imports "just one
model" from the other side. Each rule below fails with the file, line and import that broke it:

- the component graph: every `kitgate.X` import must be an edge of ALLOWED (a DAG: nothing imports
  upwards, no cycle between components). Lazy imports inside functions count too: they run in the same
  process and pull the same dependencies into an install;
- third-party imports that would break a slim install or Kit: the client must not need the server or
  usd-core, worker-side code runs inside Kit's Python (no pydantic/FastAPI/httpx), protocol is stdlib
  plus PyJWT;
- static resolution (what pyright and IDE go-to-definition do): every `kitgate.*` module named in an
  import resolves to a file of this checkout through pyproject.toml's package-dir, without an install,
  and every name imported from a kitgate module is defined there.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTENSION = REPO / "extension" / "kitgate.executor"

# component -> the components it may import. `executor` is the Kit binding (extension/kitgate.executor);
# `cli` is the composition root: the only place that wires the others together.
ALLOWED: dict[str, frozenset[str]] = {
    "cli": frozenset({"controller", "worker", "client", "sandbox", "protocol", "policies", "render"}),
    "controller": frozenset({"sandbox", "protocol", "policies"}),
    "worker": frozenset({"sandbox", "protocol", "policies", "render"}),
    "executor": frozenset({"worker", "sandbox", "protocol", "policies"}),
    "client": frozenset({"protocol"}),
    "sandbox": frozenset({"protocol", "policies"}),
    "protocol": frozenset(),
    "policies": frozenset(),
    "render": frozenset(),  # the headless renderer: pxr, numpy, moderngl; runs in its own capped child
}

# Third-party top-level modules a component must never import (anywhere, lazily or not), and why.
_SERVER_ONLY = frozenset({"fastapi", "starlette", "uvicorn", "slowapi", "limits", "sse_starlette", "jinja2", "orjson",
                          "prometheus_client", "fastapi_offline", "httptools", "uvloop",
                          "psycopg", "psycopg_pool"})  # the `postgres` extra: kitgate.controller.pg (+ `kitgate db`)
_KIT_SIDE_FORBIDDEN = _SERVER_ONLY | {"pydantic", "pydantic_settings", "httpx", "typer", "rich"}
FORBIDDEN_THIRD_PARTY: dict[str, frozenset[str]] = {
    # `pip install kitgate` (the SDK) installs none of these: usd-core, the sandbox and the server are extras.
    "client": _SERVER_ONLY | {"pxr", "RestrictedPython", "jwt", "cryptography"},
    # These run inside Kit's embedded Python, which has none of the HTTP-edge libraries.
    "worker": _KIT_SIDE_FORBIDDEN,
    "executor": _KIT_SIDE_FORBIDDEN,
    "sandbox": _KIT_SIDE_FORBIDDEN,
    "render": _KIT_SIDE_FORBIDDEN,
}
# protocol is an allow-list: stdlib plus PyJWT (and the cryptography it uses for Ed25519).
PROTOCOL_THIRD_PARTY = frozenset({"jwt", "cryptography"})


@dataclass(frozen=True)
class Layout:
    """Where each kitgate module lives in a checkout, as pyproject.toml says: [tool.setuptools] package-dir (what
    the build and the editable install read) and [tool.pyright] extraPaths (roots a static checker searches,
    e.g. the Kit extension folder that holds kitgate.executor)."""

    package_dir: dict[str, Path]  # "kitgate.sandbox" -> its folder (entries other than "")
    roots: tuple[Path, ...]  # folders that hold top-level packages: package-dir "" first, then extraPaths

    @classmethod
    def load(cls) -> Layout:
        tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
        dirs = {name: REPO / folder for name, folder in tool["setuptools"].get("package-dir", {}).items()}
        roots = [dirs.pop("", REPO)]
        roots += [REPO / extra for extra in tool.get("pyright", {}).get("extraPaths", [])]
        return cls(dirs, tuple(dict.fromkeys(roots)))

    def folders_of(self, package: str) -> list[Path]:
        """Where a package's files may be: its own package-dir entry, else its parent's folders + its name."""
        if package in self.package_dir:
            return [self.package_dir[package]]
        parent, _, leaf = package.rpartition(".")
        if not parent:
            return [root / leaf for root in self.roots]
        return [folder / leaf for folder in self.folders_of(parent)]

    def folder_of(self, package: str) -> Path:
        found = [folder for folder in self.folders_of(package) if folder.is_dir()]
        return found[0] if found else self.folders_of(package)[0]

    def resolve(self, module: str) -> Path | None:
        """The file (or namespace folder) a module name means in this checkout, or None."""
        parent, _, leaf = module.rpartition(".")
        for folder in self.folders_of(module):
            if (folder / "__init__.py").is_file():
                return folder / "__init__.py"
        for folder in self.folders_of(parent) if parent else self.roots:
            if (folder / f"{leaf}.py").is_file():
                return folder / f"{leaf}.py"
        return next((folder for folder in self.folders_of(module) if folder.is_dir()), None)

    def module_of(self, path: Path) -> str:
        """The import name of a source file (the inverse of resolve), by the most specific folder."""
        bases = [(folder, package) for package, folder in self.package_dir.items()]
        bases += [(root, "") for root in self.roots]
        matches = [(folder, package) for folder, package in bases if path.is_relative_to(folder)]
        assert matches, f"{path} is under no package-dir or extraPaths root of pyproject.toml"
        folder, package = max(matches, key=lambda match: len(match[0].parts))
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(p for p in [package, *parts] if p)


LAYOUT = Layout.load()


def source_files() -> list[Path]:
    roots = [*LAYOUT.folders_of("kitgate"), LAYOUT.folder_of("kitgate.sandbox"), LAYOUT.folder_of("kitgate.policies"),
             EXTENSION / "kitgate" / "executor"]
    files: set[Path] = set()
    for root in roots:
        if root.is_dir():
            files.update(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(files)


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # absolute module name, relative imports resolved
    names: tuple[str, ...]  # for `from M import a, b`; empty for `import M`

    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def _absolute(module_name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module_name if is_package else module_name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    module_name = LAYOUT.module_of(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module_name, path.name == "__init__.py", node)
            yield Import(path, node.lineno, target, tuple(a.name for a in node.names))


def component(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "kitgate" else None


ALL_IMPORTS = [imp for path in source_files() for imp in imports_of(path)]


def test_the_scan_sees_every_component() -> None:
    seen = {component(LAYOUT.module_of(path)) for path in source_files()}
    assert {"cli", "controller", "client", "sandbox", "protocol", "policies", "executor"} <= seen, seen


def test_allowed_graph_is_a_dag() -> None:
    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, f"ALLOWED has a cycle: {' -> '.join((*stack, node))}"
        for nxt in ALLOWED[node]:
            visit(nxt, (*stack, node))

    for start in ALLOWED:
        visit(start, ())


def test_components_import_only_downwards() -> None:
    bad = []
    for imp in ALL_IMPORTS:
        src, dst = component(LAYOUT.module_of(imp.path)), component(imp.module)
        if src is None or dst is None or src == dst:
            continue
        if src not in ALLOWED or dst not in ALLOWED:
            bad.append(f"{imp.where()}: {imp.module} ({src} -> {dst}: unknown component, add it to ALLOWED)")
        elif dst not in ALLOWED[src]:
            bad.append(f"{imp.where()}: {src} imports {imp.module}; {src} may import only "
                       f"{sorted(ALLOWED[src]) or 'nothing of kitgate'}")
    assert not bad, "imports against the dependency rules (docs/architecture.md):\n" + "\n".join(bad)


def test_third_party_imports_fit_each_install() -> None:
    bad = []
    stdlib = sys.stdlib_module_names
    for imp in ALL_IMPORTS:
        src = component(LAYOUT.module_of(imp.path))
        top = imp.module.split(".")[0]
        if not top or top == "kitgate":
            continue
        if top in FORBIDDEN_THIRD_PARTY.get(src or "", ()):
            bad.append(f"{imp.where()}: {src} imports {imp.module}")
        if src == "protocol" and top not in stdlib and top not in PROTOCOL_THIRD_PARTY:
            bad.append(f"{imp.where()}: protocol imports {imp.module} (stdlib and PyJWT only)")
    assert not bad, "third-party imports a component's install or runtime does not have:\n" + "\n".join(bad)


def _defined_names(path: Path) -> set[str] | None:
    """Top-level names a module defines (None: it has a module __getattr__, so any name may exist)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names: set[str] = set()

    def collect(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                collect(node.body)
                collect(getattr(node, "orelse", []))
                collect(getattr(node, "finalbody", []))
                for handler in getattr(node, "handlers", []):
                    collect(handler.body)
    collect(tree.body)
    return None if "__getattr__" in names else names


def test_every_kitgate_import_resolves_in_the_checkout() -> None:
    """What pyright does from a fresh clone: follow each kitgate.* import to a file via package-dir only."""
    bad = []
    for imp in ALL_IMPORTS:
        if not imp.module.startswith("kitgate"):
            continue
        target = LAYOUT.resolve(imp.module)
        if target is None:
            bad.append(f"{imp.where()}: module {imp.module} does not resolve to a file")
            continue
        if not imp.names or target.is_dir():
            continue
        defined = _defined_names(target)
        for name in imp.names:
            if name == "*" or LAYOUT.resolve(f"{imp.module}.{name}") is not None:
                continue  # a submodule
            if defined is not None and name not in defined:
                bad.append(f"{imp.where()}: {imp.module} defines no {name!r}")
    assert not bad, "kitgate imports a static checker cannot follow:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("module", "folder"),
    [("kitgate.cli", "src/kitgate/cli"), ("kitgate.client", "src/kitgate/client"),
     ("kitgate.controller", "src/kitgate/controller"), ("kitgate.protocol", "src/kitgate/protocol")],
)
def test_the_layout_names_the_components(module: str, folder: str) -> None:
    """The tree shows the design: each component is a folder named after it."""
    assert LAYOUT.folder_of(module) == REPO / folder
