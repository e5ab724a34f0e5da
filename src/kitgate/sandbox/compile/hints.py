"""Hints written for the reader of a violation, often an LLM: say what to write instead."""

from __future__ import annotations

FORBIDDEN_NAME_HINTS: dict[str, str] = {
    "open": "Files are not available. Read scene data from the job stage instead, e.g. "
            "stage.GetPrimAtPath('/World').GetAttribute(name).Get(); reference assets with "
            "prim.GetReferences().AddReference(path) using a path under the policy's asset roots.",
    "eval": "Dynamic code is not available. Write the expression directly, or use a dict of functions.",
    "exec": "Dynamic code is not available. Write the statements directly in the script.",
    "compile": "Dynamic code is not available. Write the code directly in the script.",
    "input": "Scripts run unattended; there is no stdin. Put parameters in variables at the top of the script.",
    "help": "help() is not available; print the values you want to inspect.",
    "breakpoint": "Debuggers are not available; use print() to inspect values.",
    "globals": "Refer to variables by name; globals() is not available.",
    "locals": "Refer to variables by name; locals() is not available.",
    "vars": "Use a dict to hold named values; vars() is not available.",
    "dir": "Introspection is not available; the policy (GET /v1/policies/{name}) lists what each type allows.",
    "object": "Define plain classes without naming object as a base: `class Foo:`.",
    "memoryview": "memoryview is not available; use bytes or lists.",
    "delattr": "Use `del obj.name`; delattr is not available.",
    "id": "Object ids are not available; compare with `is` or use prim.GetPath() as a key.",
    "__import__": "Use an import statement with a module the policy allows.",
    "BaseException": "Catch `Exception` (or a specific error) instead.",
    "SystemExit": "Scripts end when their last statement runs; raise an Exception to fail.",
    "KeyboardInterrupt": "Catch `Exception` (or a specific error) instead.",
    "GeneratorExit": "Catch `Exception` (or a specific error) instead.",
    "exit": "Scripts end when their last statement runs; raise an Exception to fail.",
    "quit": "Scripts end when their last statement runs; raise an Exception to fail.",
}

NODE_HINTS: dict[str, str] = {
    "AsyncFunctionDef": "Async code is not available; write ordinary functions.",
    "AsyncFor": "Async code is not available; use an ordinary for loop.",
    "AsyncWith": "Async code is not available; use an ordinary with statement.",
    "Await": "Async code is not available; call functions directly.",
    "TryStar": "Use `except SomeError:` instead of `except*`.",
}


MODULE_HINTS: dict[str, str] = {
    "numpy": "numpy runs only in isolated policies (scene-edit, readonly): one of its C calls cannot be "
             "stopped in-process. Here use pxr.Gf (Gf.Vec3f, Gf.Matrix4d) and pxr.Vt (Vt.Vec3fArray).",
    "re": "re runs only in isolated policies (scene-edit, readonly): a backtracking match cannot be stopped "
          "in-process. Here use str methods (startswith, split, replace).",
    "decimal": "decimal runs only in isolated policies (scene-edit, readonly); here use float or fractions of ints.",
    "fractions": "fractions runs only in isolated policies (scene-edit, readonly); here use float.",
    "json": "To return data, make it the last expression or assign it to `result`; it is sent back as JSON.",
    "os": "There is no file system access; build asset paths as strings under the policy's asset roots.",
    "pathlib": "There is no file system access; build asset paths as strings under the policy's asset roots.",
    "sys": "There is no interpreter access; print() values to inspect them.",
    "time": "Time is not available; use Usd.TimeCode values for animation frames.",
    "omni": "Kit modules are available only under the `trusted` policy.",
}


def import_hint(allowed_modules: list[str], module: str = "") -> str:
    shown = ", ".join(allowed_modules[:40]) or "(none)"
    extra = MODULE_HINTS.get(module.split(".")[0], "")
    text = f"This policy allows importing only: {shown}. The job stage is available as the global `stage`."
    return f"{extra} {text}" if extra else text


def builtin_hint(name: str, allowed: list[str]) -> str:
    return f"`{name}` is not available under this policy. Available builtins: {', '.join(sorted(allowed))}."


def restricted_hint(message: str) -> str:
    if "reserved for the sandbox" in message:
        return "Pick another name: `_x` and `__x` are fine, `_x_` names belong to the sandbox."
    if "special name" in message or "special attribute" in message:
        return ("Script classes may define everyday special methods (__init__, __repr__, __eq__, __hash__, "
                "__len__, __iter__, __getitem__, __enter__/__exit__, arithmetic...); any object's __name__, "
                "__qualname__, __doc__ and __class__ can be read; other dunders are not available.")
    if "class pattern" in message:
        return "Match public attributes only, e.g. `case Point(x=0, y=y):`."
    if 'starts with "_"' in message:
        return "Names and attributes starting with an underscore are private; use the public API instead."
    if "is a restricted name" in message:
        return "Frame, code and traceback internals are not available; use print() for debugging."
    if "metaclass" in message:
        return "Define plain classes without keyword arguments."
    if "not allowed" in message:
        return "This construct is not available; rewrite it with plain statements and functions."
    return "Rewrite this statement with ordinary Python that only uses the policy's modules and the `stage` global."


# (qualified type, attribute) -> what to write instead, appended to runtime and validate refusals.
ATTRIBUTE_HINTS: dict[tuple[str, str], str] = {
    ("pxr.Usd.Stage", "CreateNew"): "work on the job stage `stage`, or `Usd.Stage.CreateInMemory()` for scratch",
    ("pxr.Usd.Stage", "Open"): "work on the job stage `stage`; reference other assets with "
                               "prim.GetReferences().AddReference(path)",
    ("pxr.Usd.Stage", "Save"): "edits to `stage` are returned by the job; nothing needs saving",
    ("pxr.Usd.Stage", "Export"): "use stage.GetRootLayer().ExportToString() to get the text",
    ("pxr.Sdf.Layer", "Export"): "use layer.ExportToString() to get the text",
    ("pxr.Sdf.Layer", "Save"): "edits to the job stage are returned by the job; nothing needs saving",
    ("pxr.Sdf.Layer", "CreateNew"): "use Sdf.Layer.CreateAnonymous() for a scratch layer",
    ("pxr.Sdf.Layer", "FindOrOpen"): "reference the asset instead: prim.GetReferences().AddReference(path)",
}


def attribute_hint(quals: list[str], name: str) -> str:
    for q in quals:
        hint = ATTRIBUTE_HINTS.get((q, name))
        if hint:
            return hint
    return ""
