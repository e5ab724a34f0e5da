"""Object-layer proxies: modules, guarded constructors, sublayer lists and write proxies.

Scripts never hold a real module. ``import`` statements are compiled into calls that return a
:class:`ModuleProxy` exposing only the policy's names for that module; a submodule is handed out
only as another proxy and only if the policy lists it, so ``pxr.UsdUtils``'s ``os``/``sys`` or the
``pxr`` package's siblings are never reachable. pxr objects themselves flow unwrapped (they must be
passed back to pxr functions), but every attribute read goes through the runtime's type-checked
``_getattr_`` and every write through ``_write_``; the few methods that take asset paths or record
layers are replaced by the guarded callables defined here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitgate.sandbox.runtime.anchoring import anchored_move, walk
from kitgate.sandbox.runtime.assets import AssetDenied, check_asset_path, check_asset_value
from kitgate.sandbox.runtime.guards import LimitExceeded, SandboxDenied
from kitgate.sandbox.runtime.native import (
    MAX_DEPTH,
    check_args,
    check_paths,
    check_result_path,
    check_text,
    check_tree_room,
    checked_call,
    composed_height,
    path_depth,
    subtree_height,
)

if TYPE_CHECKING:
    from kitgate.sandbox.runtime.hooks import JobContext


def qualname(t: type) -> str:
    """The name policies use for a type. Sdf's children proxies are wrapped lazily, on first use, and
    Boost.Python then files them under whichever module was running at that moment (`__main__`, a
    sandbox module...): they are named under `pxr.Sdf`, where they belong, so that a policy can name them."""
    if t.__name__.startswith("ChildrenProxy_") and type(t).__module__ == "Boost.Python":
        return f"pxr.Sdf.{t.__qualname__}"
    return f"{t.__module__}.{t.__qualname__}"


class ModuleProxy:
    """What `import x` binds: a name table, not the module."""

    __slots__ = ("_kg_name", "_kg_values")

    def __init__(self, name: str) -> None:
        self._kg_name = name
        self._kg_values: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<module {self._kg_name!r} (sandboxed)>"


class GuardedCallable:
    """A callable standing in for a class or function whose arguments must be checked first.

    ``isinstance(x, Sdf.Reference)`` still works: the runtime's isinstance unwraps ``_kg_wrapped``.
    """

    __slots__ = ("_kg_wrapped", "_kg_call", "_kg_name")

    def __init__(self, wrapped: Any, call: Callable[..., Any], name: str) -> None:
        self._kg_wrapped = wrapped
        self._kg_call = call
        self._kg_name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._kg_call(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self._kg_name} (sandboxed)>"


# --- asset-path guarded methods --------------------------------------------------------------------

def _edit_layer(obj: Any) -> Any:
    try:
        return obj.GetPrim().GetStage().GetEditTarget().GetLayer()
    except Exception:
        return None


def _checked_arc(ctx: JobContext, arc: Any, anchor: Any, kind: str) -> Any:
    """Check a str or Sdf.Reference/Sdf.Payload and return what should be handed to USD."""
    from pxr import Sdf

    if isinstance(arc, str):
        return ctx.check_asset(arc, anchor)
    if isinstance(arc, (Sdf.Reference, Sdf.Payload)):
        path = arc.assetPath
        checked = ctx.check_asset(path, anchor)
        if checked == path:
            return arc
        cls = type(arc)
        if cls is Sdf.Reference:
            return Sdf.Reference(checked, arc.primPath, arc.layerOffset, arc.customData)
        return Sdf.Payload(checked, arc.primPath, arc.layerOffset)
    raise AssetDenied(f"{kind} must be an asset path string or Sdf.{kind.title()}")


def _add_arc(kind: str) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = getattr(obj, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            anchor = _edit_layer(obj)
            if "assetPath" in kwargs:
                kwargs["assetPath"] = _checked_arc(ctx, kwargs["assetPath"], anchor, kind)
            elif args:
                args = (_checked_arc(ctx, args[0], anchor, kind), *args[1:])
            return method(*args, **kwargs)

        return guarded

    return factory


def _set_arcs(kind: str) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = getattr(obj, name)

        def guarded(items: Any) -> Any:
            anchor = _edit_layer(obj)
            return method([_checked_arc(ctx, it, anchor, kind) for it in list(items)])

        return guarded

    return factory


class SubLayerList:
    """`layer.subLayerPaths` with every inserted path checked against the asset roots."""

    __slots__ = ("_kg_ctx", "_kg_layer")
    _kg_public = frozenset({"append", "insert", "extend", "remove", "index", "count", "clear"})

    def __init__(self, ctx: JobContext, layer: Any) -> None:
        self._kg_ctx = ctx
        self._kg_layer = layer

    def _proxy(self) -> Any:
        return self._kg_layer.subLayerPaths

    def _check(self, path: Any) -> str:
        self._check_writable()
        checked = self._kg_ctx.check_asset(path, self._kg_layer)
        if checked != path:
            raise AssetDenied(f"sublayer {path!r} must be given as an absolute path under the asset roots")
        return checked

    def append(self, path: str) -> None:
        self._proxy().append(self._check(path))

    def insert(self, index: int, path: str) -> None:
        self._proxy().insert(index, self._check(path))

    def extend(self, paths: Any) -> None:
        for p in list(paths):
            self.append(p)

    def remove(self, path: str) -> None:
        self._check_writable()
        self._proxy().remove(path)

    def index(self, path: str) -> int:
        return self._proxy().index(path)

    def count(self, path: str) -> int:
        return list(self._proxy()).count(path)

    def clear(self) -> None:
        self._check_writable()
        self._kg_layer.subLayerPaths = []

    def _check_writable(self) -> None:
        rule = self._kg_ctx.policy.type_rule("pxr.Sdf.Layer")
        if rule is None or "subLayerPaths" not in rule.settable:
            raise SandboxDenied(f"sublayers cannot be edited under policy {self._kg_ctx.policy.name!r}")
        self._kg_ctx.check_owner(self._kg_layer)

    def __len__(self) -> int:
        return len(self._proxy())

    def __iter__(self) -> Any:
        return iter(list(self._proxy()))

    def __getitem__(self, i: Any) -> Any:
        return list(self._proxy())[i]

    def __setitem__(self, i: int, path: str) -> None:
        self._proxy()[i] = self._check(path)

    def __delitem__(self, i: int) -> None:
        self._check_writable()
        del self._proxy()[i]

    def __contains__(self, path: object) -> bool:
        return path in list(self._proxy())

    def __eq__(self, other: object) -> bool:
        return list(self._proxy()) == (list(other) if isinstance(other, (list, tuple, SubLayerList)) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self._proxy()))


def _sublayers_get(ctx: JobContext, obj: Any, name: str) -> Any:
    return SubLayerList(ctx, obj)


def _sublayers_set(ctx: JobContext, obj: Any, name: str, value: Any) -> None:
    paths = list(value)
    checked = []
    for p in paths:
        c = ctx.check_asset(p, obj)
        if c != p:
            raise AssetDenied(f"sublayer {p!r} must be given as an absolute path under the asset roots")
        checked.append(c)
    obj.subLayerPaths = checked


def _insert_sublayer(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    def guarded(path: str, index: int = -1) -> Any:
        c = ctx.check_asset(path, obj)
        if c != path:
            raise AssetDenied(f"sublayer {path!r} must be given as an absolute path under the asset roots")
        return obj.InsertSubLayerPath(c, index)

    return guarded


def _import_from_string(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    def guarded(text: str) -> bool:
        from pxr import Sdf

        ctx.check_owner(obj)
        if not isinstance(text, str):
            raise TypeError("ImportFromString expects a string")
        ctx.alloc.check_items("ImportFromString()", len(text))
        check_text(text, "layer text")  # counts brackets inside strings too: pathExpression values are parsed
        scratch = Sdf.Layer.CreateAnonymous("kitgate-import-check")
        if not scratch.ImportFromString(text):
            return False
        for dep in scratch.GetCompositionAssetDependencies():
            c = ctx.check_asset(dep, obj)
            if c != dep:
                raise AssetDenied(f"asset {dep!r} in imported text must be an absolute path under the asset roots")
        # asset *values* (assetInfo, customData, attributes, time samples) get the checks Sdf.AssetPath() has
        walk(scratch, Sdf.Path.absoluteRootPath, _loose_checker(ctx), write=False)
        found: list[str] = []

        def visit(path: Any) -> None:
            if path.IsPrimPath() or path.IsPrimVariantSelectionPath():
                spec = scratch.GetPrimAtPath(path)
                if spec is not None and (spec.HasInfo("clips") or spec.HasInfo("clipSets")):
                    found.append(str(path))

        scratch.Traverse(Sdf.Path.absoluteRootPath, visit)
        if found:
            raise AssetDenied("value clips are not allowed in sandboxed scripts")
        return obj.ImportFromString(text)

    return guarded


def _loose_checker(ctx: JobContext) -> Callable[[str], str]:
    def check(path: str) -> str:
        ctx.check_asset_loose(path)
        return path

    return check


def _move_checker(ctx: JobContext, what: str) -> Callable[[str, str], None]:
    """For anchoring.anchored_move: a moved relative path must land inside the roots where it was checked."""

    def check(path: str, absolute: str) -> None:
        try:
            check_asset_path(absolute, ctx.policy.asset_roots)
        except AssetDenied:
            raise AssetDenied(
                f"{what}: the relative asset path {path!r} means {absolute!r} next to the layer it comes from, "
                "which is outside the allowed asset roots; the destination layer is anchored elsewhere, so the "
                "move is refused. Author an absolute path under the asset roots instead.") from None

    return check


def _copy_spec(ctx: JobContext, fn: Any, checked: Callable[..., Any]) -> Callable[..., Any]:
    """`Sdf.CopySpec(src, srcPath, dst, dstPath)`: relative asset paths stay anchored at `src`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) != 4 or kwargs:
            raise SandboxDenied("Sdf.CopySpec takes exactly (srcLayer, srcPath, dstLayer, dstPath) here; value "
                                "callbacks could author unchecked asset paths. Edit the copy afterwards instead.")
        src, src_path, dst, dst_path = args
        return anchored_move(src, src_path, dst, dst_path, _move_checker(ctx, "Sdf.CopySpec"),
                             lambda: checked(*args))

    return call


def _transfer_content(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """`dst.TransferContent(src)`: like CopySpec of the whole layer (sublayers included)."""
    method = getattr(obj, name)

    def guarded(source: Any) -> Any:
        from pxr import Sdf

        ctx.check_owner(obj)
        if not isinstance(source, Sdf.Layer):
            raise TypeError("TransferContent expects an Sdf.Layer")
        root = Sdf.Path.absoluteRootPath
        return anchored_move(source, root, obj, root, _move_checker(ctx, "Sdf.Layer.TransferContent"),
                             lambda: method(source))

    return guarded


def _refused(reason: str) -> Callable[[JobContext, Any, str], Any]:
    """An API a policy's name pattern reaches but that must not run in a sandbox (the reason says why)."""

    def factory(ctx: JobContext, obj: Any, name: str) -> Any:
        raise SandboxDenied(f"{type(obj).__name__}.{name} is not available in sandboxed scripts: {reason}")

    return factory


def _record_layer(result_layer: Callable[[Any], Any]) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = getattr(obj, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            for a in list(args) + list(kwargs.values()):
                if not isinstance(a, (str, int, float)) and a is not None:
                    raise SandboxDenied(f"{name}() accepts only plain identifiers/tags here")
            out = method(*args, **kwargs)
            for layer in result_layer(out):
                ctx.known_anon.add(layer.identifier)
                ctx.editable.add(layer.identifier)
            return out

        return guarded

    return factory


def _stage_layers(stage: Any) -> list[Any]:
    return [stage.GetRootLayer(), stage.GetSessionLayer()] if stage else []


def _metadata_guard(key_index: int) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = getattr(obj, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            ctx.check_owner(obj)
            key = args[key_index] if len(args) > key_index else kwargs.get("key")
            if not isinstance(key, str) or key not in ctx.policy.metadata_keys:
                allowed = ", ".join(sorted(ctx.policy.metadata_keys)) or "(none)"
                raise SandboxDenied(f"{name}({key!r}) is not allowed; metadata keys allowed by this policy: {allowed}. "
                                    "Use prim.GetReferences()/GetPayloads() for composition arcs.")
            return method(*args, **kwargs)

        return guarded

    return factory


def _owner_mutator(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """A method that edits a layer or spec: only on layers this job may edit."""
    method = getattr(obj, name)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        ctx.check_owner(obj)
        return method(*args, **kwargs)

    return guarded


def _owner_getter(ctx: JobContext, obj: Any, name: str) -> Any:
    """Editable proxies (variantSelections, list editors) only for specs on editable layers."""
    ctx.check_owner(obj)
    return getattr(obj, name)


def _edit_target_guard(index: int) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = getattr(obj, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            target = args[index] if len(args) > index else None
            if target is not None:
                ctx.check_owner(target)
            return method(*args, **kwargs)

        return guarded

    return factory


def _sanitize_assets(ctx: JobContext, value: Any) -> Any:
    """Drop the resolver's answer for asset values outside the roots: `resolvedPath` is filled in only
    for files that exist, which would make every asset-valued attribute a host file-existence oracle."""
    from pxr import Sdf

    t = type(value)
    if t is Sdf.AssetPath:
        resolved = value.resolvedPath
        if resolved and not ctx.inside_roots(resolved):
            return Sdf.AssetPath(value.authoredPath or value.path)
        return value
    if t is Sdf.AssetPathArray:
        items = [_sanitize_assets(ctx, v) for v in value]
        return Sdf.AssetPathArray(items)
    if t is dict:
        return {k: _sanitize_assets(ctx, v) for k, v in value.items()}
    if t is list or t is tuple:
        return t(_sanitize_assets(ctx, v) for v in value)
    return value


_ASSET_TYPES: tuple[type, ...] | None = None


def _asset_reader(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """`Get`-style readers: one type check on the result, sanitise only asset values."""
    global _ASSET_TYPES
    if _ASSET_TYPES is None:
        from pxr import Sdf

        _ASSET_TYPES = (Sdf.AssetPath, Sdf.AssetPathArray, dict, list, tuple)
    method = getattr(obj, name)
    kinds = _ASSET_TYPES

    def guarded(*args: Any, **kwargs: Any) -> Any:
        value = method(*args, **kwargs)
        if type(value) in kinds:
            return _sanitize_assets(ctx, value)
        return value

    return guarded


_ASSET_READERS = (("pxr.Usd.Attribute", "Get"), ("pxr.Usd.Attribute", "GetFallbackValue"),
                  ("pxr.UsdShade.Input", "Get"), ("pxr.UsdShade.Output", "Get"), ("pxr.UsdGeom.Primvar", "Get"),
                  ("pxr.UsdGeom.Primvar", "ComputeFlattened"), ("pxr.UsdShade.Shader", "GetSourceAsset"),
                  ("pxr.Usd.Object", "GetAssetInfo"), ("pxr.Usd.Object", "GetAssetInfoByKey"),
                  ("pxr.Usd.Object", "GetCustomData"), ("pxr.Usd.Object", "GetCustomDataByKey"),
                  ("pxr.Usd.Object", "GetMetadata"), ("pxr.Usd.Object", "GetAllMetadata"),
                  ("pxr.Usd.Object", "GetAllAuthoredMetadata"), ("pxr.Usd.Object", "GetMetadataByDictKey"),
                  ("pxr.Usd.ModelAPI", "GetAssetIdentifier"), ("pxr.Usd.ModelAPI", "GetAssetInfo"),
                  ("pxr.Usd.Stage", "GetMetadata"), ("pxr.Usd.Stage", "GetMetadataByDictKey"),
                  ("pxr.UsdShade.NodeDefAPI", "GetSourceAsset"), ("pxr.Usd.ModelAPI", "GetPayloadAssetDependencies"))
# Every reader above is found, and this table is kept complete, by tests/sandbox/test_asset_oracles.py: it
# calls every (type, attribute) policies/*.toml allow on a scene whose asset values point at a host file,
# once while the file exists and once while it does not, and fails on any call whose answer differs.

# Reachable through a policy's name pattern (`pxr.UsdShade.*`) but never callable: they resolve an asset
# value and hand it to the shader registry, which opens and parses the file, so their success or failure
# (and what the parser reports) tells whether a host file exists, outside any sanitiser's reach.
_SDR_READS_FILES = "it makes the shader registry open and parse the asset file (a host-file oracle)"
_ASSET_REFUSED = {
    ("pxr.UsdShade.Shader", "GetShaderNodeForSourceType"): _SDR_READS_FILES,
    ("pxr.UsdShade.NodeDefAPI", "GetShaderNodeForSourceType"): _SDR_READS_FILES,
    ("pxr.UsdShade.NodeDefAPI", "GetShaderNodeForShadingSystem"): _SDR_READS_FILES,
}


def _resolved_path(ctx: JobContext, obj: Any, name: str) -> str:
    """`assetPath.resolvedPath` whatever API produced the value: empty unless it is inside the roots."""
    resolved = obj.resolvedPath
    return resolved if resolved and ctx.inside_roots(resolved) else ""

MAX_PATH_DEPTH = MAX_DEPTH


def _parses_text(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """Static methods that run the path parser on their argument (Sdf.Path.IsValidPathString)."""
    return checked_call(getattr(obj, name))


def _path_args(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """Methods taking prim/property paths: refuse absurd depths before USD sees them."""
    method = getattr(obj, name)
    own = path_depth(obj) if not isinstance(obj, type) else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if own >= MAX_PATH_DEPTH:
            raise SandboxDenied(f"paths deeper than {MAX_PATH_DEPTH} elements are refused")
        check_paths(args)
        if kwargs:
            check_paths(kwargs.values())
        return method(*args, **kwargs)

    return guarded


# Creating prims recurses per path element (reading a deep path does not, nor does building an Sdf.Path
# element by element; *parsing* deeply nested path text does, see native.py).
_PATH_METHODS = {
    "pxr.Usd.Stage": ("DefinePrim", "OverridePrim", "CreateClassPrim"),
}

# Sdf.Path methods that return a longer path: the result is bounded at creation (native.path_nesting
# counts nested target paths), so `.pathString`, `str()` and every later call only see bounded paths.
# In-process every native call's Sdf.Path result is checked as well (native.checked_call).
_PATH_MAKERS = ("AppendChild", "AppendPath", "AppendProperty", "AppendTarget", "AppendVariantSelection",
                "AppendRelationalAttribute", "AppendMapper", "AppendMapperArg", "AppendExpression",
                "AppendElementString", "ReplacePrefix", "ReplaceTargetPath", "ReplaceName", "MakeAbsolutePath",
                "MakeRelativePath", "GetAbsoluteRootOrPrimPath")


def _path_result(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    method = getattr(obj, name)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_paths(args)
        return check_result_path(method(*args, **kwargs))

    return guarded


def _bounded_tree(inner: Callable[..., Any] | None) -> Callable[[JobContext, Any, str], Callable[..., Any]]:
    """Stage.Flatten/ExportToString write the composed tree recursively; internal references can stack
    shallow layer trees into a deep composed one, so the composed depth is checked first."""

    def factory(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
        method = inner(ctx, obj, name) if inner is not None else getattr(obj, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            check_tree_room(f"Stage.{name}", 0, composed_height(obj, MAX_DEPTH, ctx.alloc.check_deadline),
                            "Internal references stack prim trees: reference shallower prims, or fewer in a chain.")
            return method(*args, **kwargs)

        return guarded

    return factory

_LAYER_MUTATORS = ("Clear", "TransferContent", "SetTimeSample", "EraseTimeSample", "ClearDefaultPrim",
                   "ClearStartTimeCode", "ClearEndTimeCode", "ClearCustomLayerData", "ClearTimeCodesPerSecond",
                   "ClearFramesPerSecond", "ClearFramePrecision", "ClearOwner", "ClearSessionOwner",
                   "ClearColorConfiguration", "ClearColorManagementSystem", "ClearExpressionVariables",
                   "ClearRelocates", "ApplyRootPrimOrder", "RemoveInertSceneDescription",
                   "ScheduleRemoveIfInert", "RemovePropertyIfHasOnlyRequiredFields", "SetPermissionToEdit")

# (qualified type, attribute) -> factory(ctx, obj, name) returning the value a script sees.
# `static` entries may also be used on the class object itself.
METHOD_GUARDS: dict[tuple[str, str], tuple[Callable[..., Any], bool]] = {
    ("pxr.Usd.References", "AddReference"): (_add_arc("reference"), False),
    ("pxr.Usd.References", "SetReferences"): (_set_arcs("reference"), False),
    ("pxr.Usd.Payloads", "AddPayload"): (_add_arc("payload"), False),
    ("pxr.Usd.Payloads", "SetPayloads"): (_set_arcs("payload"), False),
    ("pxr.Sdf.Layer", "subLayerPaths"): (_sublayers_get, False),
    ("pxr.Sdf.Layer", "InsertSubLayerPath"): (_insert_sublayer, False),
    ("pxr.Sdf.Layer", "ImportFromString"): (_import_from_string, False),
    ("pxr.Sdf.Layer", "CreateAnonymous"): (_record_layer(lambda layer: [layer]), True),
    ("pxr.Usd.Stage", "CreateInMemory"): (_record_layer(_stage_layers), True),
    ("pxr.Usd.Stage", "Flatten"): (_record_layer(lambda layer: [layer]), False),
    ("pxr.Usd.Object", "SetMetadata"): (_metadata_guard(0), False),
    ("pxr.Usd.Object", "SetMetadataByDictKey"): (_metadata_guard(0), False),
    ("pxr.Usd.Stage", "SetMetadata"): (_metadata_guard(0), False),
    ("pxr.Usd.Stage", "SetMetadataByDictKey"): (_metadata_guard(0), False),
    ("pxr.Sdf.Spec", "SetInfo"): (_metadata_guard(0), False),
    ("pxr.Sdf.Spec", "SetInfoDictionaryValue"): (_metadata_guard(0), False),
    ("pxr.Sdf.Spec", "ClearInfo"): (_owner_mutator, False),
    ("pxr.Sdf.AttributeSpec", "SetTimeSample"): (_owner_mutator, False),
    ("pxr.Sdf.AttributeSpec", "EraseTimeSample"): (_owner_mutator, False),
    ("pxr.Sdf.AttributeSpec", "ClearLimits"): (_owner_mutator, False),
    ("pxr.Sdf.VariantSetSpec", "RemoveVariant"): (_owner_mutator, False),
    ("pxr.Sdf.PrimSpec", "RemoveProperty"): (_owner_mutator, False),
    ("pxr.Sdf.PrimSpec", "ClearReferenceList"): (_owner_mutator, False),
    ("pxr.Sdf.PrimSpec", "ClearPayloadList"): (_owner_mutator, False),
    ("pxr.Usd.Stage", "SetEditTarget"): (_edit_target_guard(0), False),
    ("pxr.Usd.VariantSet", "GetVariantEditTarget"): (_edit_target_guard(0), False),
    ("pxr.Usd.VariantSet", "GetVariantEditContext"): (_edit_target_guard(0), False),
}
for _qual, _names in _PATH_METHODS.items():
    for _name in _names:
        METHOD_GUARDS[(_qual, _name)] = (_path_args, False)
METHOD_GUARDS[("pxr.Usd.SchemaBase", "Define")] = (_path_args, True)
for _name in _PATH_MAKERS:
    METHOD_GUARDS[("pxr.Sdf.Path", _name)] = (_path_result, False)
for _key in (("pxr.Usd.Stage", "Flatten"), ("pxr.Usd.Stage", "ExportToString")):
    METHOD_GUARDS[_key] = (_bounded_tree(METHOD_GUARDS[_key][0] if _key in METHOD_GUARDS else None), False)
METHOD_GUARDS[("pxr.Sdf.Path", "IsValidPathString")] = (_parses_text, True)
for _key in _ASSET_READERS:
    METHOD_GUARDS[_key] = (_asset_reader, False)
METHOD_GUARDS[("pxr.Sdf.AssetPath", "resolvedPath")] = (_resolved_path, False)
for _name in _LAYER_MUTATORS:
    METHOD_GUARDS[("pxr.Sdf.Layer", _name)] = (_owner_mutator, False)
METHOD_GUARDS[("pxr.Sdf.Layer", "TransferContent")] = (_transfer_content, False)  # also checks the owner
for _key, _reason in _ASSET_REFUSED.items():
    METHOD_GUARDS[_key] = (_refused(_reason), False)
for _name in ("variantSelections", "variantSetNameList", "inheritPathList", "specializesList", "referenceList",
              "payloadList", "variantSets", "nameChildren", "properties", "attributes", "relationships"):
    METHOD_GUARDS[("pxr.Sdf.PrimSpec", _name)] = (_owner_getter, False)
for _name in ("connectionPathList", "targetPathList"):
    METHOD_GUARDS[("pxr.Sdf.PropertySpec", _name)] = (_owner_getter, False)

# (qualified type, attribute) -> setter(ctx, obj, name, value) for `obj.attr = value`.
SETTER_GUARDS: dict[tuple[str, str], Callable[..., None]] = {
    ("pxr.Sdf.Layer", "subLayerPaths"): _sublayers_set,
}


# --- guarded constructors reached through module attributes --------------------------------------

def _arc_ctor(ctx: JobContext, cls: Any) -> Callable[..., Any]:
    def ctor(*args: Any, **kwargs: Any) -> Any:
        path = kwargs.get("assetPath", args[0] if args else "")
        if isinstance(path, str):
            ctx.check_asset_loose(path)
        return cls(*args, **kwargs)

    return ctor


def _path_ctor(ctx: JobContext, cls: Any) -> Callable[..., Any]:
    """`Sdf.Path(text)` parses `text`; nested target paths recurse per level (native.py)."""

    def ctor(*args: Any, **kwargs: Any) -> Any:
        check_args(args, kwargs)
        check_paths(args)
        return check_result_path(cls(*args, **kwargs))

    return ctor


def _asset_path_ctor(ctx: JobContext, cls: Any) -> Callable[..., Any]:
    def ctor(*args: Any, **kwargs: Any) -> Any:
        for a in list(args[:2]) + [kwargs.get("path"), kwargs.get("resolvedPath")]:
            if isinstance(a, str):
                ctx.check_asset_loose(a)
        return cls(*args, **kwargs)

    return ctor


# Bytes per element of the Vt array types that are wider than 64 bytes-per-4-items (the default
# estimate); a `Matrix4dArray(30_000_000)` is 3.8 GB although it has only 30M elements.
_VT_WIDE = {"Matrix4dArray": 128, "Matrix3dArray": 72, "Matrix4fArray": 64, "DualQuatdArray": 64,
            "Range3dArray": 48, "Matrix3fArray": 36}
_ITEM_BYTES = 16  # Allocation.max_items is memory_mb / 16 bytes


def _vt_array_ctor(ctx: JobContext, cls: Any) -> Callable[..., Any]:
    units = max(4, -(-_VT_WIDE.get(cls.__name__, 0) // _ITEM_BYTES))  # items charged per element
    is_string = cls.__name__ == "StringArray"

    def ctor(*args: Any, **kwargs: Any) -> Any:
        what = f"Vt.{cls.__name__}()"
        if args and isinstance(args[0], int):
            ctx.alloc.check_items(what, args[0] * units)
        elif args and hasattr(args[0], "__len__"):
            ctx.alloc.check_items(what, len(args[0]) * units)
            if is_string and type(args[0]) in (list, tuple):
                # every element is copied into a std::string: [s] * n is n copies of s
                ctx.alloc.check_items(what, sum(len(x) for x in args[0] if type(x) is str) + len(args[0]))
        return cls(*args, **kwargs)

    return ctor


def _check_subtree_copy(ctx: JobContext, args: tuple[Any, ...]) -> None:
    """CopySpec copies the whole subtree: the destination's depth plus the source subtree's height must
    stay under MAX_PATH_DEPTH (chains of copies would otherwise stack bounded paths into a deep tree)."""
    from pxr import Sdf

    src_layer, src_path, dst_path = args[0], Sdf.Path(args[1]), Sdf.Path(args[3])
    room = MAX_PATH_DEPTH - dst_path.pathElementCount
    height = subtree_height(src_layer, src_path, room, ctx.alloc.check_deadline)
    check_tree_room("Sdf.CopySpec", dst_path.pathElementCount, height,
                    "Copy a shallower subtree, or copy it to a shallower place.")


def _owner_arg_ctor(ctx: JobContext, fn: Any, index: int) -> Callable[..., Any]:
    copies_subtree = getattr(fn, "__name__", "") in _SUBTREE_COPIES

    def call(*args: Any, **kwargs: Any) -> Any:
        check_paths(args)
        if len(args) > index:
            owner = args[index]
            ctx.check_owner(owner)
            spec_path = getattr(owner, "path", None) if not isinstance(owner, str) else None
            if spec_path is not None and path_depth(spec_path) >= MAX_PATH_DEPTH:
                raise SandboxDenied(f"specs deeper than {MAX_PATH_DEPTH} elements are refused")
        elif index > 0 or kwargs:
            raise SandboxDenied("pass the target layer/spec positionally so it can be checked")
        if copies_subtree and len(args) >= 4:
            _check_subtree_copy(ctx, args)
        return fn(*args, **kwargs)

    return call


# pxr.Sdf callables whose argument at the index is a layer or spec the call edits.
_SDF_OWNER_ARG = {"CreatePrimInLayer": 0, "JustCreatePrimInLayer": 0, "CopySpec": 2, "PrimSpec": 0,
                  "AttributeSpec": 0, "RelationshipSpec": 0, "VariantSetSpec": 0, "VariantSpec": 0,
                  "CreatePrimAttributeInLayer": 0, "JustCreatePrimAttributeInLayer": 0,
                  "CreateRelationshipInLayer": 0, "JustCreateRelationshipInLayer": 0, "CreateVariantInLayer": 0}
_SUBTREE_COPIES = frozenset({"CopySpec"})  # (srcLayer, srcPath, dstLayer, dstPath): the subtree height counts


def module_value_guard(ctx: JobContext, module: str, name: str, value: Any) -> Any:
    """Wrap a module attribute that needs argument checks; copy mutable module-level containers."""
    if module == "pxr.Sdf" and name == "CopySpec":  # asset paths stay anchored (anchoring.py)
        return GuardedCallable(value, _copy_spec(ctx, value, _owner_arg_ctor(ctx, value, _SDF_OWNER_ARG[name])),
                               "Sdf.CopySpec")
    if module == "pxr.Sdf" and name in _SDF_OWNER_ARG:
        return GuardedCallable(value, _owner_arg_ctor(ctx, value, _SDF_OWNER_ARG[name]), f"Sdf.{name}")
    if module == "pxr.Usd" and name == "EditContext":
        return GuardedCallable(value, _owner_arg_ctor(ctx, value, 1), "Usd.EditContext")
    if module == "pxr.Sdf" and name in ("Reference", "Payload"):
        return GuardedCallable(value, _arc_ctor(ctx, value), f"Sdf.{name}")
    if module == "pxr.Sdf" and name == "Path":
        return GuardedCallable(value, _path_ctor(ctx, value), "Sdf.Path")
    if module == "pxr.Sdf" and name == "AssetPath":
        return GuardedCallable(value, _asset_path_ctor(ctx, value), "Sdf.AssetPath")
    if module == "pxr.Vt" and name.endswith("Array") and isinstance(value, type):
        return GuardedCallable(value, _vt_array_ctor(ctx, value), f"Vt.{name}")
    if module == "math" and name in ctx.math_guards:
        return ctx.math_guards[name]
    if module == "random" and ctx.rng is not None:
        if name == "Random":
            return value
        bound = getattr(ctx.rng, name, None)  # the sized ones (choices, sample...) are stdlib.module_value's
        if callable(bound):
            return bound
    if isinstance(value, (list, dict, set, bytearray)):
        return copy.deepcopy(value)
    return value


_NATIVE_PREFIXES = ("pxr.", "omni.", "carb.", "pxr", "omni", "carb")


def is_native(qual_or_module: str) -> bool:
    """pxr/Kit code: a str it converts may reach a recursive native parser."""
    return qual_or_module.startswith(_NATIVE_PREFIXES)


def native_value(value: Any, ctx: JobContext | None = None) -> Any:
    """In-process mode: every native callable a script reaches checks its arguments first (native.py),
    and refuses once the job has ended. Classes stay GuardedCallables, so isinstance() and class
    attributes keep working."""
    t = type(value)
    if t is GuardedCallable:
        return GuardedCallable(value._kg_wrapped, checked_call(value._kg_call, ctx), value._kg_name)
    if isinstance(value, type):
        return GuardedCallable(value, checked_call(value, ctx), getattr(value, "__name__", "class"))
    if callable(value) and t is not ModuleProxy:
        return checked_call(value, ctx)
    return value


def native_factory(inner: Callable[..., Any] | None) -> Callable[[JobContext, Any, str], Any]:
    """Decision for a native attribute in-process: the value (or the guarded value) with checked args."""
    if inner is None:
        return lambda ctx, obj, name: native_value(getattr(obj, name), ctx)
    return lambda ctx, obj, name: native_value(inner(ctx, obj, name), ctx)


class WriteProxy:
    """What `_write_` returns for host objects with settable properties or writable items."""

    __slots__ = ("_kg_ctx", "_kg_obj", "_kg_rule", "_kg_qual")

    def __init__(self, ctx: JobContext, obj: Any, rule: Any, qual: str) -> None:
        object.__setattr__(self, "_kg_ctx", ctx)
        object.__setattr__(self, "_kg_obj", obj)
        object.__setattr__(self, "_kg_rule", rule)
        object.__setattr__(self, "_kg_qual", qual)

    def __setattr__(self, name: str, value: Any) -> None:
        obj = self._kg_obj
        if name.startswith("_") or name not in self._kg_rule.settable:
            raise SandboxDenied(f"cannot set attribute {name!r} on {type(obj).__name__} under this policy")
        self._kg_ctx.check_owner(obj)
        setter = None
        for cls in type(obj).__mro__:
            setter = SETTER_GUARDS.get((qualname(cls), name))
            if setter is not None:
                break
        check_args((value,), None)
        if setter is not None:
            setter(self._kg_ctx, obj, name, value)
        else:
            setattr(obj, name, value)

    def __delattr__(self, name: str) -> None:
        raise SandboxDenied(f"cannot delete attribute {name!r} on {type(self._kg_obj).__name__}")

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self._kg_rule.item_write:
            raise SandboxDenied(f"cannot assign items of {type(self._kg_obj).__name__} under this policy")
        self._kg_ctx.check_owner(self._kg_obj)
        check_args((key, value), None)
        self._kg_obj[key] = value

    def __delitem__(self, key: Any) -> None:
        if not self._kg_rule.item_write:
            raise SandboxDenied(f"cannot delete items of {type(self._kg_obj).__name__} under this policy")
        self._kg_ctx.check_owner(self._kg_obj)
        del self._kg_obj[key]


__all__ = ["ModuleProxy", "GuardedCallable", "SubLayerList", "WriteProxy", "METHOD_GUARDS", "SETTER_GUARDS",
           "module_value_guard", "native_factory", "native_value", "is_native", "qualname", "LimitExceeded",
           "check_asset_path", "check_asset_value", "MAX_PATH_DEPTH", "path_depth", "check_paths"]
