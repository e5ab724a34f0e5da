"""Policies as data: a TOML file per policy, validated by hand at load (no pydantic inside Kit).

A policy is an allow-list: which modules a script may import and which attribute names of each
module are reachable, which attribute/method names of each *type* are reachable, the builtins, the
asset roots, the limits, the execution mode and whether jobs need approval. Nothing is reachable
unless a policy names it.

Name patterns (``fnmatch`` globs such as ``"Get*Attr"`` or ``"*"``) are accepted only for pure value
types and schema wrappers (``pxr.Gf``, ``pxr.UsdGeom``, ``pxr.UsdShade``, ``pxr.UsdLux``,
``pxr.UsdPhysics``); never for ``Sdf``, ``Usd``, ``Vt``, ``Tf``, ``Plug``, ``Ar``, Kit modules or
builtins, whose entries must be spelled out name by name.

Relative ``asset_roots`` resolve against the ``asset_base`` argument, which whoever owns the
configuration passes in (the controller's ``Settings.asset_root``, the worker's ``RunnerConfig``, the
CLI's ``--asset-root``; all three read ``KITGATE_ASSET_ROOT``). The sandbox never reads the environment
itself. Without a base, relative roots are dropped, so a misconfigured host grants no file access.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from types import MappingProxyType
from typing import Any

POLICY_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
IDENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MODULE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
PATTERN_RE = re.compile(r"^[A-Za-z*][A-Za-z0-9_*]*$")
MAX_POLICY_BYTES = 512 * 1024
MODES = ("isolated", "in_process")

# Names that no policy may ever hand to a script.
FORBIDDEN_BUILTINS = frozenset(
    [
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "help",
        "breakpoint",
        "globals",
        "vars",
        "locals",
        "dir",
        "object",
        "memoryview",
        "delattr",
        "id",
        "__import__",
        "BaseException",
        "SystemExit",
        "KeyboardInterrupt",
        "GeneratorExit",
        "exit",
        "quit",
        "copyright",
        "credits",
        "license",
    ]
)
# Builtins the runtime supplies itself, each through the object guards (see runtime.Hooks):
# getattr/setattr/hasattr use the same per-type decision as `obj.name`; type(x) answers with x's class
# only where the script could already name it, else with a read-only view; super is the real one, and
# attribute reads on a super object are allowed only inside classes the script defined.
RUNTIME_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "type", "super"})
# Modules a policy may list only when jobs run isolated: their C code can run for a long time inside one
# call (a backtracking regular expression), which only an isolated child's CPU limit and kill can stop.
ISOLATED_ONLY_MODULES: dict[str, str] = {
    "re": "a regular expression can backtrack for minutes inside one C call, which only the isolated "
          "child's CPU limit can stop",
    "decimal": "the decimal context is per thread, shared with the host in-process, and Decimal/Fraction "
               "arithmetic grows integers inside C calls that only the isolated child's limits can stop",
    "fractions": "Fraction arithmetic grows integers inside stdlib calls (gcd, `/`) that only the isolated "
                 "child's limits can stop",
    "numpy": "a matmul, an eig or a broadcast runs inside one C call that only the isolated child's CPU and "
             "address-space limits can stop",
}
# Modules whose attributes and types must be listed name by name (no globs).
_NO_PATTERN_PREFIXES = (
    "pxr.Sdf",
    "pxr.Usd.",
    "pxr.Vt",
    "pxr.Tf",
    "pxr.Plug",
    "pxr.Ar",
    "pxr.Pcp",
    "pxr.Sdr",
    "pxr.Ndr",
    "pxr.UsdUtils",
    "pxr.Trace",
    "pxr.Work",
    "omni",
    "carb",
    "builtins",
    "random",
    "math",
    "typing",
    "dataclasses",
    "enum",
    "collections",
    "itertools",
    "functools",
    "json",
    "re",
    "statistics",
    "string",
    "textwrap",
    "colorsys",
    "copy",
    "datetime",
    "operator",
    "decimal",
    "fractions",
)
_PATTERN_OK_PREFIXES = (
    "pxr.Gf.",
    "pxr.UsdGeom.",
    "pxr.UsdShade.",
    "pxr.UsdLux.",
    "pxr.UsdPhysics.",
    "pxr.UsdSkel.",
    "pxr.Kind.",
)
# Types that may never appear at all, whatever the policy author wants.
_NEVER_TYPES = ("pxr.Plug.", "pxr.Ar.", "pxr.UsdUtils.", "pxr.Tf.Notice", "pxr.Usd.StageCache", "pxr.Trace.")
_NEVER_MODULES = (
    "pxr.Plug",
    "pxr.Ar",
    "pxr.UsdUtils",
    "pxr.Trace",
    "os",
    "sys",
    "subprocess",
    "builtins",
    "importlib",
    "ctypes",
    "io",
    "pathlib",
    "shutil",
    "socket",
    "inspect",
    "gc",
    "pickle",
    "copyreg",
    "marshal",
    "shelve",
    "threading",
    "multiprocessing",
    "signal",
    "atexit",
    "weakref",
    "traceback",
    "code",
    "codeop",
    "types",
    "json.decoder",
    "json.encoder",
    "json.scanner",
    "collections.abc",
)
# Methods that no policy may list on these types (file I/O, cross-tenant reach, process aborts).
_NEVER_ATTRS: dict[str, frozenset[str]] = {
    "pxr.Sdf.Layer": frozenset(
        {
            "Export",
            "Save",
            "FindOrOpen",
            "FindOrOpenRelativeToLayer",
            "Find",
            "FindRelativeToLayer",
            "GetLoadedLayers",
            "CreateNew",
            "New",
            "OpenAsAnonymous",
            "Import",
            "Reload",
            "ReloadLayers",
            "SetMuted",
            "AddToMutedLayers",
            "RemoveFromMutedLayers",
            "UpdateExternalReference",
            "SetPermissionToEdit",
            "SetPermissionToSave",
            "DumpLayerInfo",
        }
    ),
    "pxr.Usd.Stage": frozenset(
        {
            "Open",
            "OpenMasked",
            "CreateNew",
            "Export",
            "Save",
            "SaveSessionLayers",
            "Reload",
            "SetGlobalVariantFallbacks",
            "WriteFallbackPrimTypes",
            "MuteLayer",
            "UnmuteLayer",
            "MuteAndUnmuteLayers",
        }
    ),
    "pxr.Tf": frozenset(
        {
            "Fatal",
            "PrepareModule",
            "Notice",
            "Debug",
            "ScriptModuleLoader",
            "Singleton",
            "RegistryManager",
            "InstallTerminateAndCrashHandlers",
        }
    ),
    "pxr": frozenset({"Plug", "Ar", "UsdUtils", "Tf", "Trace", "Work"}),
}


class PolicyError(ValueError):
    """A policy name is unknown or its file does not satisfy the schema."""


@dataclass(frozen=True)
class Limits:
    """Resource limits. Isolated mode enforces cpu/memory with rlimits; all modes enforce the rest."""

    timeout_s: float = 30.0
    cpu_s: float = 30.0
    memory_mb: int = 1024
    output_bytes: int = 65536
    result_bytes: int = 65536
    source_bytes: int = 100_000
    max_lines: int = 5000
    ast_depth: int = 60
    loop_iterations: int = 10_000_000

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _LIMIT_BOUNDS}


# name -> (type, minimum, maximum)
_LIMIT_BOUNDS: dict[str, tuple[type, float, float]] = {
    "timeout_s": (float, 0.01, 3600),
    "cpu_s": (float, 0.01, 3600),
    "memory_mb": (int, 16, 65536),
    "output_bytes": (int, 0, 16 * 2**20),
    "result_bytes": (int, 16, 16 * 2**20),
    "source_bytes": (int, 16, 2**20),
    "max_lines": (int, 1, 100_000),
    "ast_depth": (int, 8, 500),
    "loop_iterations": (int, 1, 10**10),
}


@dataclass(frozen=True)
class RenderCaps:
    """What a job may ask of the renderer (`[render]`): a picture is an input surface of its own, so it is
    off unless the policy turns it on, and every size, count and time it may cost is capped here. The
    controller refuses a request over these caps at submit time; the worker renders under its OWN copy."""

    allowed: bool = False
    max_width: int = 1024
    max_height: int = 1024
    max_pixels: int = 1_048_576
    time_s: float = 20.0
    memory_mb: int = 1024
    max_faces: int = 1_000_000
    max_prims: int = 100_000
    max_instances: int = 50_000
    max_png_bytes: int = 524_288

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, **{k: getattr(self, k) for k in _RENDER_BOUNDS}}


# name -> (type, minimum, maximum); a policy's [render] table may set any of these (plus `allowed`)
_RENDER_BOUNDS: dict[str, tuple[type, float, float]] = {
    "max_width": (int, 16, 8192),
    "max_height": (int, 16, 8192),
    "max_pixels": (int, 256, 16_777_216),
    "time_s": (float, 0.5, 600),
    "memory_mb": (int, 128, 16384),
    "max_faces": (int, 1, 50_000_000),
    "max_prims": (int, 1, 10_000_000),
    "max_instances": (int, 0, 10_000_000),
    "max_png_bytes": (int, 1024, 640 * 1024),  # kitgate.protocol.render.MAX_IMAGE_BYTES: a report fits 1 MiB
}


@dataclass(frozen=True)
class TypeRule:
    """What a script may do with instances (and the class object) of one type."""

    attributes: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    settable: frozenset[str] = frozenset()
    item_write: bool = False

    def allows(self, name: str) -> bool:
        return name in self.attributes or any(fnmatchcase(name, p) for p in self.patterns)


@dataclass(frozen=True)
class ModuleRule:
    attributes: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()

    def allows(self, name: str) -> bool:
        return name in self.attributes or any(fnmatchcase(name, p) for p in self.patterns)


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    digest: str
    mode: str
    requires_approval: bool
    limits: Limits
    builtins: frozenset[str]
    modules: MappingProxyType  # str -> ModuleRule
    types: MappingProxyType  # qualified type name or glob -> TypeRule
    asset_roots: tuple[str, ...]
    metadata_keys: frozenset[str]
    # read-only is a flag, not a name: such a policy never gets a scene delta carried back
    read_only: bool = False
    render: RenderCaps = field(default_factory=RenderCaps)  # off unless the policy's [render] says allowed
    source: str = field(default="", repr=False, compare=False)
    # decision cache shared by every job under this policy: (type, name) -> decision (see runtime)
    decisions: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def module_rule(self, module: str) -> ModuleRule | None:
        return self.modules.get(module)

    def type_rule(self, qualname: str) -> TypeRule | None:
        """The rule for a qualified type name: exact entry, else the first matching glob entry."""
        rule = self.types.get(qualname)
        if rule is not None:
            return rule
        for key, r in self.types.items():
            if "*" in key and fnmatchcase(qualname, key):
                return r
        return None

    def public_dict(self) -> dict[str, Any]:
        """JSON-safe description served by GET /v1/policies/{name}."""
        return {
            "name": self.name,
            "description": self.description,
            "digest": self.digest,
            "mode": self.mode,
            "requires_approval": self.requires_approval,
            "read_only": self.read_only,
            "limits": self.limits.to_dict(),
            "render": self.render.to_dict(),
            "builtins": sorted(self.builtins),
            "modules": {m: sorted(r.attributes) + list(r.patterns) for m, r in sorted(self.modules.items())},
            "types": {
                t: {
                    "attributes": sorted(r.attributes) + list(r.patterns),
                    "settable": sorted(r.settable),
                    "item_write": r.item_write,
                }
                for t, r in sorted(self.types.items())
            },
            "asset_roots_count": len(self.asset_roots),
            "metadata_keys": sorted(self.metadata_keys),
        }


_TOP_KEYS = {
    "name",
    "description",
    "mode",
    "requires_approval",
    "asset_roots",
    "builtins",
    "limits",
    "modules",
    "types",
    "metadata_keys",
    "read_only",
    "render",
}


def _err(policy: str, msg: str) -> PolicyError:
    return PolicyError(f"policy {policy!r}: {msg}")


def _str_list(pname: str, where: str, value: Any, pattern: re.Pattern[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(pname, f"{where} must be a list of strings")
    if len(value) > 5000:
        raise _err(pname, f"{where} has more than 5000 entries")
    if pattern is not None:
        for v in value:
            if not pattern.match(v):
                raise _err(pname, f"{where}: invalid entry {v!r}")
    return value


def _split_names(pname: str, where: str, names: list[str], patterns_ok: bool) -> tuple[frozenset[str], tuple[str, ...]]:
    exact: set[str] = set()
    globs: list[str] = []
    for n in names:
        if n.startswith("_"):
            raise _err(pname, f"{where}: private name {n!r} cannot be allowed")
        if "*" in n:
            if not patterns_ok:
                raise _err(pname, f"{where}: name patterns such as {n!r} are not allowed here; list names explicitly")
            globs.append(n)
        else:
            exact.add(n)
    return frozenset(exact), tuple(globs)


def _patterns_ok(qualname: str) -> bool:
    if any(qualname.startswith(p) or qualname == p.rstrip(".") for p in _NO_PATTERN_PREFIXES):
        return False
    return any(qualname.startswith(p) or qualname + "." == p for p in _PATTERN_OK_PREFIXES)


def _check_never(pname: str, qual: str, names: frozenset[str], globs: tuple[str, ...]) -> None:
    banned = _NEVER_ATTRS.get(qual)
    if not banned:
        return
    bad = sorted(names & banned)
    if bad or globs:
        raise _err(pname, f"{qual}: {', '.join(bad) or 'patterns'} may never be allowed")


def _parse_limits(pname: str, raw: Any) -> Limits:
    if not isinstance(raw, dict):
        raise _err(pname, "[limits] must be a table")
    unknown = set(raw) - set(_LIMIT_BOUNDS)
    if unknown:
        raise _err(pname, f"unknown key(s) in [limits]: {', '.join(sorted(unknown))}")
    missing = set(_LIMIT_BOUNDS) - set(raw)
    if missing:
        raise _err(pname, f"missing key(s) in [limits]: {', '.join(sorted(missing))}")
    values: dict[str, Any] = {}
    for key, (typ, lo, hi) in _LIMIT_BOUNDS.items():
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (typ is int and not isinstance(v, int)):
            raise _err(pname, f"limits.{key} must be {'an integer' if typ is int else 'a number'}")
        if not lo <= v <= hi:
            raise _err(pname, f"limits.{key}={v} outside [{lo}, {hi}]")
        values[key] = typ(v)
    return Limits(**values)


def _parse_render(pname: str, raw: Any) -> RenderCaps:
    """`[render]`: every key optional (defaults are RenderCaps'), unknown keys and out-of-range values refused."""
    if raw is None:
        return RenderCaps()
    if not isinstance(raw, dict):
        raise _err(pname, "[render] must be a table")
    unknown = set(raw) - set(_RENDER_BOUNDS) - {"allowed"}
    if unknown:
        raise _err(pname, f"unknown key(s) in [render]: {', '.join(sorted(unknown))}")
    allowed = raw.get("allowed", False)
    if not isinstance(allowed, bool):
        raise _err(pname, "render.allowed must be true or false")
    values: dict[str, Any] = {}
    for key, (typ, lo, hi) in _RENDER_BOUNDS.items():
        if key not in raw:
            continue
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (typ is int and not isinstance(v, int)):
            raise _err(pname, f"render.{key} must be {'an integer' if typ is int else 'a number'}")
        if not lo <= v <= hi:
            raise _err(pname, f"render.{key}={v} outside [{lo}, {hi}]")
        values[key] = typ(v)
    return RenderCaps(allowed=allowed, **values)


def _resolve_roots(pname: str, roots: list[str], asset_base: str | None) -> tuple[str, ...]:
    out: list[str] = []
    for r in roots:
        if "\x00" in r or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", r):
            raise _err(pname, f"asset root {r!r} must be a local path")
        if os.path.isabs(r):
            path = r
        elif asset_base:
            path = os.path.join(asset_base, r)
        else:
            continue  # deny by default: no base configured, no relative root
        canon = os.path.realpath(path)
        if canon == os.path.sep:
            raise _err(pname, "asset root '/' is not allowed")
        if canon not in out:
            out.append(canon)
    return tuple(out)


def parse_policy(data: bytes, expected_name: str | None = None, asset_base: str | None = None) -> Policy:
    """Validate raw TOML bytes and build a Policy (used by load_policy and by tests)."""
    pname = expected_name or "<policy>"
    if len(data) > MAX_POLICY_BYTES:
        raise _err(pname, f"file larger than {MAX_POLICY_BYTES} bytes")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _err(pname, f"not valid TOML: {exc}") from None
    if "extends" in raw:
        raise _err(pname, "uses `extends`: load it by name (load_policy) so that its base can be found")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _err(pname, f"unknown key(s): {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "mode", "limits", "builtins"):
        if key not in raw:
            raise _err(pname, f"missing required key {key!r}")
    name = raw["name"]
    if not isinstance(name, str) or not POLICY_NAME_RE.match(name):
        raise _err(pname, "name must match ^[a-z0-9][a-z0-9_-]{0,63}$")
    if expected_name is not None and name != expected_name:
        raise _err(pname, f"name {name!r} does not match the file name")
    pname = name
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        raise _err(pname, "description must be a string of at most 2000 characters")
    mode = raw["mode"]
    if mode not in MODES:
        raise _err(pname, f"mode must be one of {', '.join(MODES)}")
    approval = raw.get("requires_approval", False)
    if not isinstance(approval, bool):
        raise _err(pname, "requires_approval must be true or false")
    read_only = raw.get("read_only", False)
    if not isinstance(read_only, bool):
        raise _err(pname, "read_only must be true or false")
    limits = _parse_limits(pname, raw["limits"])

    builtins_ = _str_list(pname, "builtins", raw["builtins"], IDENT_RE)
    bad = sorted(set(builtins_) & FORBIDDEN_BUILTINS)
    if bad:
        raise _err(pname, f"builtins may never include: {', '.join(bad)}")
    from kitgate.sandbox.runtime.guards import KNOWN_BUILTINS  # lazy: keeps policy importable without the runtime

    unknown_b = sorted(set(builtins_) - KNOWN_BUILTINS - RUNTIME_BUILTINS)
    if unknown_b:
        raise _err(pname, f"unknown builtin(s): {', '.join(unknown_b)}")

    modules_raw = raw.get("modules", {})
    if not isinstance(modules_raw, dict):
        raise _err(pname, "[modules] must be a table")
    modules: dict[str, ModuleRule] = {}
    for mod, spec in modules_raw.items():
        if not MODULE_RE.match(mod):
            raise _err(pname, f"invalid module name {mod!r}")
        if any(mod == n or mod.startswith(n + ".") for n in _NEVER_MODULES):
            raise _err(pname, f"module {mod!r} may never be importable")
        if mode == "in_process" and mod.split(".")[0] in ISOLATED_ONLY_MODULES:
            raise _err(pname, f"module {mod!r} is only allowed in isolated policies: "
                              f"{ISOLATED_ONLY_MODULES[mod.split('.')[0]]}")
        if mode != "in_process" and (mod.startswith("omni") or mod.startswith("carb")):
            raise _err(pname, f"Kit module {mod!r} is only allowed in in_process policies")
        if not isinstance(spec, dict):
            raise _err(pname, f"[modules.{mod!r}] must be a table")
        extra = set(spec) - {"attributes"}
        if extra:
            raise _err(pname, f"unknown key(s) in module {mod!r}: {', '.join(sorted(extra))}")
        names = _str_list(pname, f"modules.{mod}.attributes", spec.get("attributes", []), PATTERN_RE)
        from kitgate.sandbox.runtime import numpy_surface
        from kitgate.sandbox.runtime.stdlib import VETTED_NAMES  # lazy, like guards above

        vetted = numpy_surface.vetted_names(mod)
        unvetted = sorted(set(names) - (vetted if vetted is not None else VETTED_NAMES.get(mod, frozenset(names))))
        if unvetted:
            raise _err(pname, f"module {mod!r} exposes only its vetted names (SECURITY.md); not: {', '.join(unvetted)}")
        exact, globs = _split_names(pname, f"modules.{mod}", names, _patterns_ok(mod + "."))
        _check_never(pname, mod, exact, globs)
        modules[mod] = ModuleRule(exact, globs)

    types_raw = raw.get("types", {})
    if not isinstance(types_raw, dict):
        raise _err(pname, "[types] must be a table")
    types: dict[str, TypeRule] = {}
    for qual, spec in types_raw.items():
        if not re.match(r"^[A-Za-z][A-Za-z0-9_.]*(\.\*)?$", qual):
            raise _err(pname, f"invalid type name {qual!r}")
        if any(qual.startswith(p) for p in _NEVER_TYPES):
            raise _err(pname, f"type {qual!r} may never be reachable")
        if "*" in qual and not _patterns_ok(qual):
            raise _err(pname, f"type pattern {qual!r} is only allowed for value/schema modules")
        if not isinstance(spec, dict):
            raise _err(pname, f"[types.{qual!r}] must be a table")
        extra = set(spec) - {"attributes", "settable", "item_write"}
        if extra:
            raise _err(pname, f"unknown key(s) in type {qual!r}: {', '.join(sorted(extra))}")
        names = _str_list(pname, f"types.{qual}.attributes", spec.get("attributes", []), PATTERN_RE)
        from kitgate.sandbox.runtime.numpy_surface import vetted_type_attributes

        vetted_attrs = vetted_type_attributes(qual)
        if vetted_attrs is not None and set(names) - vetted_attrs:
            raise _err(pname, f"type {qual!r} exposes only its vetted attributes (SECURITY.md); not: "
                              f"{', '.join(sorted(set(names) - vetted_attrs))}")
        exact, globs = _split_names(pname, f"types.{qual}", names, _patterns_ok(qual))
        _check_never(pname, qual, exact, globs)
        settable = frozenset(_str_list(pname, f"types.{qual}.settable", spec.get("settable", []), IDENT_RE))
        item_write = spec.get("item_write", False)
        if not isinstance(item_write, bool):
            raise _err(pname, f"types.{qual}.item_write must be true or false")
        types[qual] = TypeRule(exact, globs, settable, item_write)

    if any(m == "numpy" or m.startswith("numpy.") for m in modules):
        from kitgate.sandbox.runtime.numpy_surface import installed

        if not installed():
            raise _err(pname, "lists module 'numpy', which is not installed on this host: install it "
                              "(pip install 'kitgate[worker]' brings numpy) or remove the [modules.\"numpy*\"] tables")
    roots = _str_list(pname, "asset_roots", raw.get("asset_roots", []))
    meta = frozenset(_str_list(pname, "metadata_keys", raw.get("metadata_keys", []), IDENT_RE))
    return Policy(
        name=name,
        description=description,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        mode=mode,
        requires_approval=approval,
        limits=limits,
        builtins=frozenset(builtins_),
        modules=MappingProxyType(modules),
        types=MappingProxyType(types),
        asset_roots=_resolve_roots(pname, roots, asset_base),
        metadata_keys=meta,
        read_only=read_only,
        render=_parse_render(pname, raw.get("render")),
        source=data.decode("utf-8"),
    )


# What a policy was built from: each file looked at, with its stat stamp (None: absent, or not a file on
# disk, such as a policy inside a zip). Used by load_policy's stat cache.
_Stamp = tuple[int, int, int, int] | None
_Reads = list[tuple[str, _Stamp]]


def _stamp(path: str) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _read_policy_bytes(name: str, policy_dir: Path | None, reads: _Reads | None = None) -> bytes:
    if policy_dir is not None:
        path = Path(policy_dir) / f"{name}.toml"
        if reads is not None:
            reads.append((str(path), _stamp(str(path))))  # stamp before reading: a later change is seen
        if not path.is_file():
            raise PolicyError(f"unknown policy {name!r}")
        return path.read_bytes()
    res = importlib.resources.files("kitgate.policies").joinpath(f"{name}.toml")
    if reads is not None:
        reads.append((str(res), _stamp(str(res)) if isinstance(res, Path) else None))
    if not res.is_file():
        raise PolicyError(f"unknown policy {name!r}")
    return res.read_bytes()


def _base_policy_bytes(name: str, policy_dir: Path | None, reads: _Reads | None = None) -> bytes:
    """A base named by `extends`: the policy directory first, then the shipped policies."""
    if not isinstance(name, str) or not POLICY_NAME_RE.match(name):
        raise PolicyError(f"extends: invalid policy name {name!r}")
    if policy_dir is not None:
        candidate = Path(policy_dir) / f"{name}.toml"
        if reads is not None:
            reads.append((str(candidate), _stamp(str(candidate))))  # a base added here later takes over
        if candidate.is_file():
            return _read_policy_bytes(name, policy_dir, reads)
    return _read_policy_bytes(name, None, reads)


def _flattened(name: str, data: bytes, policy_dir: Path | None, reads: _Reads | None = None) -> bytes:
    """A user policy that says `extends = "..."` becomes the flat text its digest is taken from; any
    other file is returned as it is (its bytes are its identity)."""
    if b"extends" not in data:
        return data
    from kitgate.sandbox.policy_layers import LayerError, emit, flatten

    def raw(blob: bytes, what: str) -> dict[str, Any]:
        if len(blob) > MAX_POLICY_BYTES:
            raise _err(what, f"file larger than {MAX_POLICY_BYTES} bytes")
        try:
            return tomllib.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise _err(what, f"not valid TOML: {exc}") from None

    overlay = raw(data, name)
    if "extends" not in overlay:
        return data
    try:
        flat = flatten(overlay, lambda base: raw(_base_policy_bytes(base, policy_dir, reads), base))
        return emit(flat, f"{name}.toml (extends {overlay['extends']!r})").encode("utf-8")
    except LayerError as exc:
        raise _err(name, str(exc)) from None


_CACHE: dict[tuple[str, str, str, str], Policy] = {}
# (name, policy_dir, asset_base) -> (files read with their stamps, policy). Lets a claim skip re-reading and
# re-hashing the file (~100 us) while every file it was built from is unchanged on disk.
_STAT_CACHE: dict[tuple[str, str, str], tuple[tuple[tuple[str, _Stamp], ...], Policy]] = {}
# A file modified this recently is re-read on every load: a rewrite within one mtime tick that keeps the size
# would leave the stamp unchanged (git's "racily clean" problem), so a stamp is trusted only once it is older.
_RACY_NS = 2_000_000_000


def load_policy(
    name: str,
    policy_dir: Path | None = None,
    asset_base: str | Path | None = None,
    expect_digest: str | None = None,
) -> Policy:
    """Load and validate one policy; the same bytes and base give the same (cached) object.

    `asset_base` anchors relative asset roots (None: they are dropped); the caller's configuration
    decides it, never this process's environment. While the files a policy was built from keep their
    inode, size, mtime and ctime (and are older than two seconds), the file is not read again. A caller
    that knows the digest it wants (a worker, from the claim) passes `expect_digest`: a cached policy
    with another digest is never returned for it; the files are read and hashed again instead."""
    if not isinstance(name, str) or not POLICY_NAME_RE.match(name):
        raise PolicyError(f"invalid policy name {name!r}")
    base = str(asset_base) if asset_base is not None else ""
    skey = (name, str(policy_dir), base)
    known = _STAT_CACHE.get(skey)
    if (known is not None and (expect_digest is None or known[1].digest == expect_digest)
            and all(_stamp(path) == stamp for path, stamp in known[0])):
        return known[1]
    reads: _Reads = []
    data = _flattened(name, _read_policy_bytes(name, policy_dir, reads), policy_dir, reads)
    key = (name, hashlib.sha256(data).hexdigest(), str(policy_dir), base)
    policy = _CACHE.get(key)
    if policy is None:
        policy = parse_policy(data, expected_name=name, asset_base=base or None)
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = policy
    racy_after = time.time_ns() - _RACY_NS
    # Absent files may only be candidates in the policy dir (a base that may appear later); a shipped policy that
    # is not a file on disk (a zip) has no stamp, so it is never stat-cached.
    on_disk = all(stamp is not None or (policy_dir is not None and path.startswith(str(policy_dir)))
                  for path, stamp in reads)
    if on_disk and all(stamp is None or stamp[2] < racy_after for _path, stamp in reads):
        if len(_STAT_CACHE) > 64:
            _STAT_CACHE.clear()
        _STAT_CACHE[skey] = (tuple(reads), policy)
    else:
        _STAT_CACHE.pop(skey, None)
    return policy


def list_policies(policy_dir: Path | None = None, asset_base: str | Path | None = None) -> list[Policy]:
    """Every policy file in the directory (default: the kitgate.policies package), sorted by name."""
    if policy_dir is not None:
        names = sorted(p.stem for p in Path(policy_dir).glob("*.toml"))
    else:
        names = sorted(
            r.name[:-5] for r in importlib.resources.files("kitgate.policies").iterdir() if r.name.endswith(".toml")
        )
    return [load_policy(n, policy_dir, asset_base) for n in names if POLICY_NAME_RE.match(n)]
