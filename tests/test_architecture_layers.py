"""The layering inside the controller and the one home of each setting, read from the source.

Why a test: these rules break one quick fix at a time ("just read the variable here", "just call the
store from this route"), and each break is invisible in review. Each check names the file and line:

- the store layer knows nothing of HTTP: no FastAPI/Starlette, no ApiError, no status codes. That is the
  boundary (backend.py) and both engines behind it: SQLite (store.py, db.py, images.py and their async
  adapters, sqlite_backend.py) and PostgreSQL (pg/). It raises domain errors (domain_errors.py), which
  error_handlers.py maps to statuses in ONE table. Importing it for real must not load an HTTP framework;
- every route goes through the service layer: no routes_*.py or console module touches `.store` or `.db`,
  or imports a store or an engine (backend.py's protocols and data types are not a way to the database);
- the process environment is read only where settings are built (the controller's pydantic-settings
  model, the worker's WorkerEnvironment) or where a child process's environment is put together.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTROLLER = REPO / "src" / "kitgate" / "controller"
STORE_LAYER = [CONTROLLER / "store.py", CONTROLLER / "db.py", CONTROLLER / "images.py", CONTROLLER / "backend.py",
               CONTROLLER / "sqlite_backend.py", *sorted((CONTROLLER / "pg").glob("*.py"))]
STORE_MODULES = ("kitgate.controller.store", "kitgate.controller.db", "kitgate.controller.images",
                 "kitgate.controller.backend", "kitgate.controller.sqlite_backend")
HTTP_MODULES = ("fastapi", "starlette", "httpx", "uvicorn", "kitgate.controller.errors",
                "kitgate.controller.error_handlers", "http")
HTTP_NAMES = frozenset({"ApiError", "HTTPException", "JSONResponse", "Request", "Response"})

# Where reading os.environ / os.getenv is right, and why. Everything else gets its values passed in.
ENVIRONMENT_READERS: dict[str, str] = {
    "src/kitgate/controller/settings.py": "the controller's pydantic-settings model (KITGATE_CONFIG, XDG_DATA_HOME)",
    "src/kitgate/worker/config.py": "WorkerEnvironment: the worker's one reading, taken once at start-up "
                                    "(no pydantic: it also runs inside Kit)",
    "src/kitgate/cli/demo.py": "builds the demo's child-process environment (drops the caller's KITGATE_*)",
    "src/kitgate/sandbox/process/forkserver.py": "builds the fork server's scrubbed environment "
                                                  "(only CHILD_ENV_KEYS pass)",
    "src/kitgate/sandbox/process/handle.py": "copies named keys (BASE_ENV_KEYS, env_passthrough) into the fork "
                                              "server's environment",
    "src/kitgate/sandbox/process/child.py": "replaces the job child's environment with the scrubbed one it was handed",
    "src/kitgate/sandbox/runtime/numpy_surface.py": "pins numpy's BLAS to one thread (setdefault) before importing "
                                                     "it; reads no setting",
}
SOURCE_ROOTS = [REPO / "src" / "kitgate", REPO / "sandbox", REPO / "extension" / "kitgate.executor" / "kitgate"]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, imported names) for every import, lazy ones inside functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]


def _is_http(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in HTTP_MODULES)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _source_files() -> Iterator[Path]:
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            if "tests" not in path.relative_to(root).parts:
                yield path


@pytest.mark.parametrize("path", STORE_LAYER, ids=lambda p: p.relative_to(CONTROLLER).as_posix())
def test_store_layer_imports_nothing_http(path: Path) -> None:
    tree = _tree(path)
    bad = [f"{_rel(path)}:{line}: imports {mod}" for line, mod, _ in _imports(tree) if _is_http(mod)]
    bad += [
        f"{_rel(path)}:{node.lineno}: uses {node.id}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in HTTP_NAMES
    ]
    assert not bad, "the store raises domain errors (domain_errors.py), never HTTP ones:\n" + "\n".join(bad)


def test_store_raises_only_domain_errors() -> None:
    """Each `raise X(...)` in the store names a DomainError subclass, so error_handlers.py can map it."""
    from kitgate.controller import domain_errors

    domain = {
        name for name, obj in vars(domain_errors).items()
        if isinstance(obj, type) and issubclass(obj, domain_errors.DomainError)
    }
    path = CONTROLLER / "store.py"
    raised = [
        (node.lineno, node.exc.func.id)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
    ]
    assert raised, "expected the store to refuse something"
    bad = [f"{_rel(path)}:{line}: raises {name}" for line, name in raised if name not in domain]
    assert not bad, "the store may raise only domain errors:\n" + "\n".join(bad)


def test_every_domain_error_has_one_http_status() -> None:
    from kitgate.controller import domain_errors
    from kitgate.controller.error_handlers import DOMAIN_STATUS

    classes = [
        obj for obj in vars(domain_errors).values()
        if isinstance(obj, type) and issubclass(obj, domain_errors.DomainError) and obj is not domain_errors.DomainError
    ]
    assert classes
    unmapped = [c.__name__ for c in classes if c not in DOMAIN_STATUS]
    assert not unmapped, f"add these to error_handlers.DOMAIN_STATUS: {unmapped}"
    assert all(400 <= s < 500 for s in DOMAIN_STATUS.values()), DOMAIN_STATUS
    # the table lives in one module: no other controller file defines or uses one
    others = [
        f"{_rel(p)}:{node.lineno}"
        for p in CONTROLLER.rglob("*.py") if p.name != "error_handlers.py"
        for node in ast.walk(_tree(p)) if isinstance(node, ast.Name) and node.id in {"DOMAIN_STATUS", "domain_status"}
    ]
    assert not others, others


def test_importing_the_store_loads_no_http_framework() -> None:
    """Statically clean is not enough: a package __init__ on the way can pull FastAPI in. Import it for real
    (the PostgreSQL engine too, where its driver, the `postgres` extra, is installed)."""
    import importlib.util

    modules = [*STORE_MODULES]
    if importlib.util.find_spec("psycopg") is not None:
        modules.append("kitgate.controller.pg.backend")
    probe = (
        f"import sys, {', '.join(modules)}\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'httpx'))))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "", f"importing the store loaded: {proc.stdout.strip()}"


@pytest.mark.parametrize("path", [*sorted(CONTROLLER.glob("routes_*.py")), *sorted(CONTROLLER.glob("console/*.py"))],
                         ids=lambda p: p.relative_to(CONTROLLER).as_posix())
def test_routes_go_through_the_service(path: Path) -> None:
    tree = _tree(path)
    bad = [
        f"{_rel(path)}:{node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"store", "db"}
    ]
    bad += [
        f"{_rel(path)}:{line}: imports {name} from {mod}"
        for line, mod, names in _imports(tree)
        if (mod in STORE_MODULES and mod != "kitgate.controller.backend") or mod.startswith("kitgate.controller.pg")
        for name in names or [mod]
        if name != "JobRecord"  # the record type a route turns into a response; not a way to the database
    ]
    bad += [
        f"{_rel(path)}:{line}: imports {mod} (policies come from the service, with its settings)"
        for line, mod, _ in _imports(tree)
        if mod.startswith("kitgate.sandbox.policy")
    ]
    assert not bad, "routes call JobService, never the store or the database:\n" + "\n".join(bad)


def _environment_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """os.environ / os.getenv / os.putenv, and `environ`/`getenv` imported from os."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}:
            yield node.lineno, f"os.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in {"environ", "environb", "getenv", "getenvb"}:
                    yield node.lineno, f"from os import {alias.name}"


def test_environment_is_read_only_where_settings_are_built() -> None:
    files = list(_source_files())
    assert len(files) > 50, "the source roots moved: update SOURCE_ROOTS"
    bad = [
        f"{_rel(path)}:{line}: {what}"
        for path in files
        if _rel(path) not in ENVIRONMENT_READERS
        for line, what in _environment_reads(_tree(path))
    ]
    assert not bad, (
        "read settings from the pydantic-settings model (controller), WorkerEnvironment (worker) or a typer "
        "option with envvar= (CLI), and pass them in:\n" + "\n".join(bad)
    )
    stale = [name for name in ENVIRONMENT_READERS
             if not (REPO / name).exists() or not any(_environment_reads(_tree(REPO / name)))]
    assert not stale, f"allow-list entries that no longer read the environment (remove them): {stale}"
