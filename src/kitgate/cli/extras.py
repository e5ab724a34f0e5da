"""Which pip extra a command needs, said in one line before anything heavy is imported.

`pip install kitgate` is the SDK and the client commands only; the controller, the worker and the local
sandbox commands live behind extras (pyproject.toml). A command that needs one calls `require` first, so a
slim install answers `kitgate serve` with the pip command to run instead of a traceback. The module names
are import names (what `importlib.util.find_spec` looks for), not distribution names.
"""

from __future__ import annotations

import importlib.util

import typer

# extra -> the top-level modules its commands import. Kept in step with [project.optional-dependencies].
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "server": ("fastapi", "uvicorn", "limits", "prometheus_client", "fastapi_offline", "sse_starlette",
               "orjson", "jinja2", "RestrictedPython", "jwt", "cryptography"),
    "worker": ("pxr", "RestrictedPython", "jwt", "cryptography"),
    "mcp": ("mcp",),
    "postgres": ("psycopg", "psycopg_pool"),  # KITGATE_DATABASE_URL (docs/deploy.md)
    "langchain": ("langchain_core",),
}
EXIT_MISSING_EXTRA = 2


def missing_modules(extra: str) -> list[str]:
    """The extra's modules that cannot be found; finding a spec imports nothing."""
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def install_hint(extra: str) -> str:
    return f"pip install 'kitgate[{extra}]'"


def missing_extra_line(module: str) -> str | None:
    """For a module that failed to import: which extras provide it, as the pip command(s) to run."""
    root = module.split(".")[0]
    extras = [extra for extra, names in EXTRA_MODULES.items() if root in names]
    if not extras:
        return None
    return f"this command needs {root}: " + " or ".join(install_hint(extra) for extra in extras)


def require(*extras: str, command: str) -> None:
    """Exit 2 with one line naming the pip install when an extra `command` needs is not installed."""
    for extra in extras:
        missing = missing_modules(extra)
        if missing:
            typer.echo(
                f"kitgate {command} needs the {extra} extra (missing: {', '.join(missing)}): {install_hint(extra)}",
                err=True,
            )
            raise typer.Exit(EXIT_MISSING_EXTRA)
