"""Spec-level scene delta: what an isolated job changed in its copy of the edit-target layer.

WHY spec-level: sending the whole layer back and re-importing it costs O(scene) per job (design.md
measured ~75 ms at 10,000 prims). Instead the child records the paths `Usd.Notice.ObjectsChanged`
reports, reduces them to the top-most changed prims/properties and copies only those specs. The parent
applies them with `Sdf.CopySpec` inside one `Sdf.ChangeBlock`, so the cost follows the edit size.

Two halves:
- child side: `ChangeRecorder` (listen while the script runs) and `build_delta()` (-> JSON-safe dict);
- parent side: `Delta.from_wire()` (validate untrusted data) and `Delta.apply_to()` (atomic apply).

The child is untrusted: everything in the wire dict is checked in `from_wire` (sizes, path syntax,
metadata keys, composition asset paths), and `apply_to` only copies the declared specs.

The host side of isolation: whatever the host does with a delta runs outside every job limit (Kit: on
its main thread), so each step is bounded before it runs:
- `check_wire()` reads the wire dict and the layer text with linear, non-recursive scans BEFORE pxr
  parses anything (bracket nesting, path length/elements/target nesting, spec and arc counts): USD's
  text parser and `Sdf.Path` recurse natively and crash the host on deep input;
- `composition_cost()` counts, with a budget, the prim-index nodes the host would compose for the
  changed prims (every arc, every variant, cycles refused), both in the child on its own result and
  on the host inside the apply's change block, before any stage recomposes;
- re-ordering and removing children rebuild a parent's child list once (linear), never per child.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

WIRE_VERSION = 1
# A delta is applied on the host's thread (Kit: the main thread) outside the job's limits, so its
# size is a limit of its own: beyond these the job fails with limit "result".
MAX_DELTA_BYTES = 32 * 1024 * 1024  # serialized delta layer text
MAX_DELTA_SPECS = 100_000  # prim + property specs carried
MAX_DELTA_PATHS = 100_000  # copy + remove entries
MAX_TRACKED_PATHS = 500_000  # beyond this the recorder falls back to a whole-layer delta
CHANGED_PRIMS_CAP = 1000  # reported list; the total is reported separately
MAX_SUBLAYERS = 256
# Structure budgets checked on the wire text before the host parses it (USD's parser recurses per level:
# with a 1 MiB thread stack it crashed at ~8,000 nested prims/dictionaries and ~4,000 nested targets).
MAX_NESTING = 512  # {[( levels in the delta text (a prim level is one or two)
MAX_PATH_CHARS = 16 * 1024  # one path literal or wire path string
MAX_PATH_ELEMENTS = 1024  # '/' and '.' separated elements of one path
MAX_TARGET_NESTING = 4  # '[' inside one path: /A.rel[/B].attr is depth 1
MAX_DELTA_ARCS = 100_000  # path and asset literals in the delta text (arcs, targets, connections)
# Prim-index nodes the host may compose for one delta (~25 us each measured; a diamond of internal arcs
# grows this exponentially while the spec count stays linear).
MAX_COMPOSE_NODES = 200_000
# Sublayers compose foreign content into the host's stage: the parent re-checks every sublayer path
# against the policy's asset roots (like references) before it applies them.
SUBLAYER_KEYS = frozenset({"subLayers", "subLayerOffsets"})
# Root-layer metadata an isolated job may change.
META_KEYS = SUBLAYER_KEYS | frozenset(
    {
        "defaultPrim",
        "upAxis",
        "metersPerUnit",
        "kilogramsPerUnit",
        "startTimeCode",
        "endTimeCode",
        "timeCodesPerSecond",
        "framesPerSecond",
        "documentation",
        "comment",
        "customLayerData",
        "framePrecision",
    }
)
# Dictionary-valued fields: a Python list set into one becomes an untyped VtValue vector that the usda
# writer cannot write back (the delta would not parse); they are carried as typed arrays instead.
DICT_FIELDS = ("customData", "assetInfo", "customLayerData")


class DeltaError(Exception):
    """A delta that cannot be built, is malformed, or could not be applied."""


class DeltaTooLarge(DeltaError):
    """The job changed more than one delta may carry (reported as limit "result")."""


class UnsupportedEdit(DeltaError):
    """The script changed something an isolated job cannot carry back (e.g. the layer's owner)."""


class DeltaRejected(DeltaError):
    """The delta exceeds a structure or composition budget of the host side (reported as DeltaRejected)."""


def _pxr() -> tuple[Any, Any, Any]:
    from pxr import Sdf, Tf, Usd  # lazy: sandbox must import without pxr

    return Sdf, Tf, Usd


def _sublayers(layer: Any) -> tuple[list[str], list[Any]]:
    return list(layer.subLayerPaths), list(layer.subLayerOffsets)


def _set_sublayers(layer: Any, paths: list[str], offsets: list[Any]) -> None:
    """Sdf has no setter for the offsets vector (GetInfo cannot even convert it): assign per index."""
    layer.subLayerPaths = list(paths)
    for i, offset in enumerate(offsets[: len(paths)]):
        layer.subLayerOffsets[i] = offset


def _layer_meta(layer: Any) -> dict[str, Any]:
    root = layer.pseudoRoot
    out: dict[str, Any] = {}
    for key in root.ListInfoKeys():
        if key == "subLayers":
            out[key] = list(layer.subLayerPaths)
        elif key == "subLayerOffsets":
            out[key] = [(o.offset, o.scale) for o in layer.subLayerOffsets]
        else:
            try:
                out[key] = root.GetInfo(key)
            except TypeError:  # a value type without a Python converter: compare by repr
                out[key] = ("unconvertible", repr(key))
    return out


# ------------------------------------------------------------------------------- structure budgets

# Tokens of the usda text that can hide brackets (strings, assets, comments) or that hold a path; any
# other quote, '@' or '<' is malformed. Each alternative is linear (no nested quantifiers).
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|@@@(?:[^@\\]|\\.|@(?!@@))*@@@"
    r"|@[^@\n]*@"
    r"|<[^<>\n]*>"
    r"|#[^\n]*"
    r"|[{}\[\]()\"'@<>]",
    re.S,
)
_OPEN, _CLOSE = "{[(", "}])"
_PRIM_WORD = re.compile(r"(?m)^\s*(?:def|over|class)\b")
_REFUSE = "the job's scene delta is refused before the host reads it: "


def _refuse(what: str, instead: str) -> DeltaRejected:
    return DeltaRejected(f"{_REFUSE}{what}; {instead}")


def check_path_shape(path: str, *, targets_ok: bool) -> None:
    """Bound one path string by length, elements and target nesting (before `Sdf.Path` parses it)."""
    depth = 0
    for ch in path:
        if ch == "[":
            depth += 1
            if depth > MAX_TARGET_NESTING or not targets_ok:
                raise _refuse(f"a path nests relationship targets deeper than {MAX_TARGET_NESTING} levels",
                              "target prims or properties directly (e.g. </World/A.rel>), not paths of paths")
        elif ch == "]":
            depth -= 1
    if len(path) > MAX_PATH_CHARS:
        raise _refuse(f"a path is longer than {MAX_PATH_CHARS} characters", "use shorter prim paths")
    if path.count("/") + path.count(".") > MAX_PATH_ELEMENTS:
        raise _refuse(f"a path has more than {MAX_PATH_ELEMENTS} elements",
                      "keep prim hierarchies and target paths shallower")


def check_layer_text(text: str) -> None:
    """Linear, non-recursive scan of untrusted usda text: nesting, path shapes, spec and arc counts."""
    depth = literals = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        ch = tok[0]
        if len(tok) == 1 and ch in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                raise _refuse(f"it nests deeper than {MAX_NESTING} levels (prims, variants or dictionaries)",
                              "flatten the hierarchy or the dictionary")
        elif len(tok) == 1 and ch in _CLOSE:
            depth -= 1
        elif ch == "<" and len(tok) > 1:
            literals += 1
            check_path_shape(tok[1:-1], targets_ok=True)
        elif ch == "@" and len(tok) > 1:
            literals += 1
        elif len(tok) == 1:  # an unterminated string, asset or path
            raise _refuse("its text is malformed", "this is not something a script can cause; report it")
        if literals > MAX_DELTA_ARCS:
            raise _refuse(f"it carries more than {MAX_DELTA_ARCS} paths and asset paths (arcs, targets, "
                          "connections)", "split the job into smaller ones")
    if len(_PRIM_WORD.findall(text)) > MAX_DELTA_SPECS:
        raise DeltaTooLarge(f"the scene delta carries more than {MAX_DELTA_SPECS} prim specs; split the job")


def check_wire(data: dict[str, Any]) -> None:
    """Structure checks on the wire dict that need no pxr: run before anything parses it."""
    text = data.get("layer")
    if isinstance(text, str):
        check_layer_text(text)
    for key in ("copy", "remove", "changed"):
        value = data.get(key)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_path_shape(item, targets_ok=False)
    order = data.get("order")
    if isinstance(order, dict):
        for parent in order:
            if isinstance(parent, str):
                check_path_shape(parent, targets_ok=False)


def _arc_targets(spec: Any, layer: Any) -> tuple[list[Any], int]:
    """Internal arc targets of one prim spec (all list-op items) and the number of external arcs."""
    from pxr import Sdf

    internal: list[Any] = []
    external = 0
    for key in ("references", "payload"):
        if not spec.HasInfo(key):
            continue
        for item in spec.GetInfo(key).GetAddedOrExplicitItems():
            if item.assetPath:
                external += 1
                continue
            target = item.primPath
            if target.isEmpty:
                default = layer.defaultPrim
                target = Sdf.Path.absoluteRootPath.AppendChild(default) if default else target
            if not target.isEmpty:
                internal.append(target)
    for key in ("inheritPaths", "specializes"):
        if spec.HasInfo(key):
            internal.extend(spec.GetInfo(key).GetAddedOrExplicitItems())
    return internal, external


MAX_VARIANT_SPECS = 256  # specs (a prim and its variants) counted for one namespace path
_ARC_KEYS = frozenset({"references", "payload", "inheritPaths", "specializes"})


class _Specs:
    """Per-walk cache of what the composition count reads from each prim spec (one Sdf lookup each)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self._info: dict[Any, tuple[Any, bool, list[str]] | None] = {}

    def info(self, spec_path: Any) -> tuple[Any, bool, list[str]] | None:
        """(spec, has variants, child names) or None when there is no prim spec at the path."""
        if spec_path not in self._info:
            spec = self.layer.GetPrimAtPath(spec_path)
            self._info[spec_path] = None if spec is None else (
                spec, bool(spec.variantSetNameList.GetAddedOrExplicitItems()) or len(spec.variantSets) > 0,
                list(spec.nameChildren.keys()))
        return self._info[spec_path]

    def with_variants(self, spec_path: Any) -> list[Any]:
        """A prim spec path and the spec paths of all its variants, nested ones included (bounded)."""
        out = [spec_path]
        i = 0
        while i < len(out) and len(out) <= MAX_VARIANT_SPECS:
            info = self.info(out[i])
            i += 1
            if info is not None and info[1]:
                for vset in info[0].variantSets.values():  # every variant: a host may select any of them
                    out.extend(v.primSpec.path for v in vset.variants.values())
        return out[:MAX_VARIANT_SPECS]


class _Contrib:
    """The specs of one layer that contribute to a namespace path (the prim and any variant's copy of it)."""

    def __init__(self, specs: _Specs) -> None:
        from pxr import Sdf

        self.specs = specs
        self.cache: dict[Any, list[Any]] = {Sdf.Path.absoluteRootPath: [Sdf.Path.absoluteRootPath]}

    def __call__(self, path: Any) -> list[Any]:
        missing = []
        probe = path
        while probe not in self.cache:
            missing.append(probe)
            probe = probe.GetParentPath()
        owners = self.cache[probe]
        for prefix in reversed(missing):
            found: list[Any] = []
            for owner in owners:
                for candidate in self.specs.with_variants(owner):
                    child = candidate.AppendChild(prefix.name)
                    if self.specs.info(child) is not None:
                        found.append(child)
            owners = self.cache[prefix] = found[:MAX_VARIANT_SPECS]
        return owners


def _cost_deps(layer: Any, contrib: _Contrib, path: Any) -> tuple[list[Any], int] | None:
    """Namespace paths composing `path` pulls in (children and internal arc targets) + external arcs."""
    specs = contrib.specs
    owners = [s for owner in contrib(path) for s in specs.with_variants(owner)]
    if not owners:
        return None
    deps: list[Any] = []
    external = 0
    names: list[str] = []
    for spec_path in owners:
        info = specs.info(spec_path)
        if info is None:
            continue
        spec, _variants, children = info
        names.extend(children)
        if _ARC_KEYS.intersection(spec.ListInfoKeys()):
            targets, ext = _arc_targets(spec, layer)
            external += ext
            deps.extend(t.StripAllVariantSelections() for t in targets
                        if t.IsPrimPath() or t.IsPrimVariantSelectionPath())
    deps.extend(path.AppendChild(name) for name in (dict.fromkeys(names) if len(owners) > 1 else names))
    return deps, external


def composition_cost(layer: Any, roots: Iterable[Any], budget: int = MAX_COMPOSE_NODES) -> int:
    """Prim-index nodes composing `roots` (and their namespace) in `layer` would create, counted over
    every arc and every variant. Raises DeltaRejected past `budget` or on a cycle of internal arcs.

    Memoised and iterative: each spec is visited once, so the walk itself costs at most `budget` visits
    even when the node count it computes is exponential (a diamond of references)."""
    memo: dict[Any, int] = {}
    external: dict[Any, int] = {}
    deps_of: dict[Any, list[Any]] = {}
    open_: set[Any] = set()
    contrib = _Contrib(_Specs(layer))
    total = 0
    for root in roots:
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack and len(memo) + len(open_) <= budget:
            path, done = stack.pop()
            if path in memo:
                continue
            if done:
                deps = deps_of.pop(path)
                memo[path] = min(budget + 1, 1 + external.get(path, 0) + sum(memo.get(d, 1) for d in deps))
                open_.discard(path)
                continue
            if path in open_:
                raise _cycle(path)
            found = _cost_deps(layer, contrib, path)
            if found is None:
                memo[path] = 1
                continue
            deps, external[path] = found
            open_.add(path)
            deps_of[path] = deps
            stack.append((path, True))
            for dep in deps:
                if dep in open_:
                    raise _cycle(dep)
                if dep not in memo:
                    stack.append((dep, False))
        total += memo.get(root, budget + 1)
        if total > budget:
            raise DeltaRejected(
                f"composing the job's changes would create more than {budget} prim-index nodes on the host "
                "(references, payloads, inherits or specializes that fan out, e.g. prims that each reference "
                "the next level twice); reference each asset once per prim, or use instancing")
    return total


def _cycle(path: Any) -> DeltaRejected:
    return DeltaRejected(f"the job's changes contain a cycle of internal composition arcs through {path}; "
                         "a prim cannot (indirectly) reference, inherit or specialize itself or an ancestor")


def _ancestor_arc_roots(layer: Any, roots: Iterable[Any]) -> list[Any]:
    """For each root, the same namespace under the internal arc targets of its ancestors (ancestral arcs)."""
    out: list[Any] = []
    targets_of: dict[Any, list[Any] | None] = {}  # siblings share ancestors: one lookup per prefix
    for root in roots:
        for prefix in root.GetPrefixes()[:-1]:
            if prefix not in targets_of:
                spec = layer.GetPrimAtPath(prefix)
                arcs = spec is not None and bool(_ARC_KEYS.intersection(spec.ListInfoKeys()))
                targets_of[prefix] = None if spec is None else (
                    [t for t in _arc_targets(spec, layer)[0] if t.IsPrimPath()] if arcs else [])
            targets = targets_of[prefix]
            if targets is None:
                break
            out.extend(root.ReplacePrefix(prefix, target) for target in targets)
    return out


# Words without which usda text authors no composition arc and no variant (checked on the delta text,
# anywhere, strings included: a false hit only costs the full count).
_ARC_WORDS = re.compile(r"references|payload|inherits|specializes|variant|relocates")


def text_has_arcs(text: str) -> bool:
    return _ARC_WORDS.search(text) is not None


def change_cost(layer: Any, prim_roots: Iterable[Any], budget: int = MAX_COMPOSE_NODES, *,
                has_arcs: bool = True) -> int:
    """`composition_cost` of the prims a delta changes, including what their ancestors' arcs bring.

    `has_arcs=False` (the delta's text authors no arc and no variant): the changed subtrees then cost
    their spec count, already capped by MAX_DELTA_SPECS, and only ancestral arcs are walked."""
    roots = list(prim_roots)
    ancestral = _ancestor_arc_roots(layer, roots)
    return composition_cost(layer, (roots if has_arcs else []) + ancestral, budget)


def trial_compose(layer: Any, prim_roots: list[Any], budget: int = MAX_COMPOSE_NODES) -> None:
    """Child side: compose the changed prims as the host will, on a fresh stage over the job's own result
    (fresh session layer, everything loaded, no mask beyond the changed prims), so that what the job's
    stage did not compose (inactive in its session layer, unloaded payloads) is composed here, under the
    job's own limits. Refuses composition errors that mean a bomb (capacity exceeded, arc cycles)."""
    from pxr import Sdf, Usd

    if not prim_roots:
        return
    mask = Usd.StagePopulationMask()
    for root in prim_roots:
        mask.Add(root)
    stage = Usd.Stage.OpenMasked(layer, Sdf.Layer.CreateAnonymous(".usda"), mask, Usd.Stage.LoadAll)
    for error in stage.GetCompositionErrors():
        kind = str(error.errorType)
        if "Capacity" in kind or "Cycle" in kind:
            raise DeltaRejected(f"composing the job's changes fails on the host ({error}); reference each asset "
                                "once per prim and never (indirectly) reference a prim from itself")
    for count, _prim in enumerate(Usd.PrimRange.AllPrims(stage.GetPseudoRoot())):
        if count >= budget:
            raise DeltaRejected(f"composing the job's changes yields more than {budget} prims on the host; "
                                "split the job or use instancing")


def _typed_list(items: list[Any], where: str) -> Any:
    from pxr import Sdf, Vt

    kinds = {type(v) for v in items}
    if not items or kinds == {str}:
        return Vt.StringArray(items)
    if kinds == {bool}:
        return Vt.BoolArray(items)
    if kinds == {int}:
        small = all(-(2**31) <= v < 2**31 for v in items)
        return Vt.IntArray(items) if small else Vt.Int64Array(items)
    if kinds <= {int, float}:
        return Vt.DoubleArray([float(v) for v in items])
    if kinds == {Sdf.AssetPath}:
        return Sdf.AssetPathArray(items)
    names = ", ".join(sorted(k.__name__ for k in kinds))
    raise UnsupportedEdit(f"the list under {where!r} mixes kinds of values ({names}), which a scene file cannot "
                          "store; use a list of one kind (all strings, all numbers or all booleans) or a dictionary")


def _typed_dict(value: dict[str, Any], where: str, depth: int = 0) -> tuple[dict[str, Any], bool]:
    """Python lists inside a dictionary value -> typed Vt arrays (the usda writer needs a type)."""
    if depth > MAX_NESTING // 2:
        raise UnsupportedEdit(f"the dictionary {where!r} nests deeper than {MAX_NESTING // 2} levels; flatten it")
    out: dict[str, Any] = {}
    changed = False
    for key, item in value.items():
        if isinstance(item, dict):
            item, sub = _typed_dict(item, f"{where}.{key}", depth + 1)
            changed = changed or sub
        elif isinstance(item, (list, tuple)):
            item, changed = _typed_list(list(item), f"{where}.{key}"), True
        out[key] = item
    return out, changed


def _type_dict_fields(spec: Any) -> None:
    for key in DICT_FIELDS:
        if spec.HasInfo(key):
            value = spec.GetInfo(key)
            if isinstance(value, dict):
                typed, changed = _typed_dict(value, key)
                if changed:
                    spec.SetInfo(key, typed)


def _type_dicts(layer: Any) -> None:
    """Give every list inside a dictionary field of `layer` (the delta) an array type, in place."""
    paths: list[Any] = []
    layer.Traverse(layer.pseudoRoot.path, paths.append)
    for path in paths:
        spec = layer.GetObjectAtPath(path)
        if spec is not None and hasattr(spec, "HasInfo"):
            _type_dict_fields(spec)


# ---------------------------------------------------------------------------------------------- child


class ChangeRecorder:
    """Collects the paths a job changed on one stage (runs inside the child, trusted code)."""

    def __init__(self, stage: Any, layer: Any) -> None:
        Sdf, Tf, Usd = _pxr()
        self._layer = layer
        self._resynced: set[Any] = set()
        self._info: set[Any] = set()
        self.overflow = False
        self._meta_before = _layer_meta(layer)
        self._roots_before = [spec.name for spec in layer.rootPrims]
        self._key = Tf.Notice.Register(Usd.Notice.ObjectsChanged, self._on_change, stage)

    def _on_change(self, notice: Any, _sender: Any) -> None:
        if self.overflow:
            return
        self._resynced.update(notice.GetResyncedPaths())
        self._info.update(notice.GetChangedInfoOnlyPaths())
        if len(self._resynced) + len(self._info) > MAX_TRACKED_PATHS:
            self.overflow = True
            self._resynced.clear()
            self._info.clear()

    def stop(self) -> None:
        if self._key is not None:
            self._key.Revoke()
            self._key = None

    def pristine(self) -> bool:
        """Not one change notice since it was built (so what it noted of the layer then still holds)."""
        return not (self.overflow or self._resynced or self._info)

    def unchanged(self) -> bool:
        """Not one change notice and the same layer metadata: `build_delta` would return an empty delta,
        so the child sends none (and skips the delta layer, its export and its checks)."""
        return self.pristine() and _layer_meta(self._layer) == self._meta_before


def changed_prim_paths(recorder: ChangeRecorder) -> tuple[list[str], int]:
    """Prim paths a job changed (capped list, total) without building a delta (in-process mode)."""
    Sdf, _Tf, _Usd = _pxr()
    recorder.stop()
    if recorder.overflow:
        return [], MAX_TRACKED_PATHS
    paths = {p.StripAllVariantSelections().GetPrimPath() for p in recorder._resynced | recorder._info}
    paths.discard(Sdf.Path.absoluteRootPath)
    names = sorted(p.pathString for p in paths)
    return names[:CHANGED_PRIMS_CAP], len(names)


def count_specs(layer: Any, roots: Iterable[Any], limit: int) -> int:
    """Prim, property and variant specs under `roots` (stops counting once past `limit`)."""
    from pxr import Sdf

    n = 0
    stack = [layer.GetObjectAtPath(r) for r in roots]
    while stack and n <= limit:
        spec = stack.pop()
        if spec is None:
            continue
        n += 1
        if isinstance(spec, Sdf.PrimSpec):
            n += len(spec.properties)
            stack.extend(spec.nameChildren.values())
            for vset in spec.variantSets.values():
                stack.extend(v.primSpec for v in vset.variants.values())
    return n


def _variant_owner(layer: Any, path: Any) -> Any | None:
    """Top-most ancestor-or-self prim spec with variant sets: edits under it may live in a variant."""
    for prefix in path.GetPrimPath().GetPrefixes():
        spec = layer.GetPrimAtPath(prefix)
        if spec is None:
            return None
        if len(spec.variantSets) > 0:
            return prefix
    return None


def _top_most(paths: Iterable[Any]) -> set[Any]:
    chosen = set(paths)
    return {p for p in chosen if not any(a in chosen for a in p.GetPrefixes()[:-1])}


def build_delta(recorder: ChangeRecorder) -> dict[str, Any]:
    """Reduce the recorded paths to a JSON-safe delta (layer text + path lists)."""
    Sdf, _Tf, _Usd = _pxr()
    recorder.stop()
    layer = recorder._layer
    absolute_root = Sdf.Path.absoluteRootPath

    meta_after = _layer_meta(layer)
    before = recorder._meta_before
    changed_keys = {k for k in set(meta_after) | set(before) if meta_after.get(k) != before.get(k)}
    bad = changed_keys - META_KEYS
    if bad:
        raise UnsupportedEdit(f"isolated jobs cannot change layer metadata {', '.join(sorted(bad))}")

    prims: set[Any] = set()
    props: set[Any] = set()
    reported: set[Any] = set()
    everything = recorder.overflow or absolute_root in recorder._resynced
    if everything:
        # Whole-layer change (Clear/ImportFromString/too many paths): diff the root prims.
        names = {spec.name for spec in layer.rootPrims} | set(recorder._roots_before)
        prims = {absolute_root.AppendChild(n) for n in names}
        reported = set(prims)
    else:
        resynced_prims: set[Any] = set()
        for path in recorder._resynced | recorder._info:
            if path == absolute_root:
                continue
            path = path.StripAllVariantSelections()
            reported.add(path.GetPrimPath())
            owner = _variant_owner(layer, path)
            if owner is not None:
                prims.add(owner)
            elif path.IsPropertyPath():
                props.add(path)
            else:
                prims.add(path.GetPrimPath())
                if path in recorder._resynced:
                    resynced_prims.add(path.GetPrimPath())
        prims = _top_most(prims)
        props = {p for p in props if not any(a in prims for a in p.GetPrimPath().GetPrefixes())}

    delta = Sdf.Layer.CreateAnonymous(".usda")
    copy: list[str] = []
    remove: list[str] = []
    order: dict[str, list[str]] = {}
    budget = MAX_DELTA_SPECS

    def ensure_parent(path: Any) -> None:
        parent = path.GetParentPath()
        if parent != absolute_root and delta.GetPrimAtPath(parent) is None:
            Sdf.CreatePrimInLayer(delta, parent)

    # Group prims by parent so siblings are applied in the child's order (new specs append).
    for path in sorted(prims, key=lambda p: p.pathString):
        if layer.GetPrimAtPath(path) is None:
            remove.append(path.pathString)
    parents = sorted({p.GetParentPath() for p in prims}, key=lambda p: p.pathString)
    for parent in parents:
        parent_spec = layer.pseudoRoot if parent == absolute_root else layer.GetPrimAtPath(parent)
        if parent_spec is None:
            continue
        names = list(parent_spec.nameChildren.keys())
        mine = {p.name for p in prims if p.GetParentPath() == parent}
        for name in names:
            if name in mine:
                path = parent.AppendChild(name)
                budget -= count_specs(layer, [path], budget)  # before copying: stop early on a flood
                if budget < 0:
                    raise DeltaTooLarge(f"the job changed more than {MAX_DELTA_SPECS} specs; split it into "
                                        "smaller jobs")
                ensure_parent(path)
                if not Sdf.CopySpec(layer, path, delta, path):
                    raise DeltaError(f"could not copy {path}")
                copy.append(path.pathString)
        if everything or any(parent.AppendChild(n) in resynced_prims for n in mine):
            order[parent.pathString] = names
    for path in sorted(props, key=lambda p: p.pathString):
        if layer.GetPropertyAtPath(path) is None:
            remove.append(path.pathString)
            continue
        prim_path = path.GetPrimPath()
        if delta.GetPrimAtPath(prim_path) is None:
            Sdf.CreatePrimInLayer(delta, prim_path)
        if not Sdf.CopySpec(layer, path, delta, path):
            raise DeltaError(f"could not copy {path}")
        copy.append(path.pathString)

    sub_set: list[str] = []
    sub_clear: list[str] = []
    if changed_keys & SUBLAYER_KEYS:  # paths and offsets travel together (offsets are per index)
        changed_keys -= SUBLAYER_KEYS
        paths, offsets = _sublayers(layer)
        if len(paths) > MAX_SUBLAYERS:
            raise UnsupportedEdit(f"a layer may carry at most {MAX_SUBLAYERS} sublayers")
        if any(p.startswith("anon:") for p in paths):
            raise UnsupportedEdit("isolated jobs cannot sublayer an anonymous layer (it exists only in the job's "
                                  "process); author its prims on the stage instead, or sublayer a file under the "
                                  "asset roots")
        _set_sublayers(delta, paths, offsets)
        (sub_set if paths else sub_clear).extend(sorted(SUBLAYER_KEYS))
    meta_clear = sorted(k for k in changed_keys if k not in meta_after)
    meta_set = sorted(changed_keys - set(meta_clear))
    for key in meta_set:
        delta.pseudoRoot.SetInfo(key, meta_after[key])

    if len(copy) + len(remove) > MAX_DELTA_PATHS or len(props) > budget:
        raise DeltaTooLarge(f"the job changed more than {MAX_DELTA_SPECS} specs; split it into smaller jobs")
    _type_dicts(delta)
    text = delta.ExportToString()
    if len(text.encode()) > MAX_DELTA_BYTES:
        raise DeltaTooLarge(f"the scene delta exceeds {MAX_DELTA_BYTES} bytes; split the job")
    # The host's checks, run here first on the job's own result so an honest job learns why; the host
    # repeats them (a compromised child could skip these).
    check_layer_text(text)
    prim_roots = [Sdf.Path(p) for p in copy if Sdf.Path(p).IsPrimPath()]
    if change_cost(layer, prim_roots, has_arcs=text_has_arcs(text)):
        trial_compose(layer, prim_roots)
    changed = sorted(p.pathString for p in reported)
    return {
        "version": WIRE_VERSION,
        "layer": text,
        "copy": copy,
        "remove": remove,
        "order": order,
        "meta_set": meta_set + sub_set,
        "meta_clear": meta_clear + sub_clear,
        "changed": changed[:CHANGED_PRIMS_CAP],
        "changed_total": len(changed),
    }


# --------------------------------------------------------------------------------------------- parent


def _str_list(data: dict[str, Any], key: str, limit: int) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise DeltaError(f"delta field {key!r} is malformed")
    return value


@dataclass
class Delta:
    """A validated delta ready to apply on the host's thread (Kit: main thread, one undo group)."""

    layer: Any
    copy: list[Any] = field(default_factory=list)
    remove: list[Any] = field(default_factory=list)
    order: dict[Any, list[str]] = field(default_factory=dict)
    meta_set: list[str] = field(default_factory=list)
    meta_clear: list[str] = field(default_factory=list)
    changed_prims: list[str] = field(default_factory=list)
    changed_prims_total: int = 0
    wire: dict[str, Any] | None = field(default=None, repr=False)  # as received (the fork server re-applies it)
    has_arcs: bool = True  # the layer text authors composition arcs or variants (see `change_cost`)

    @property
    def empty(self) -> bool:
        return not (self.copy or self.remove or self.meta_set or self.meta_clear or self.order)

    @classmethod
    def from_wire(
        cls,
        data: Any,
        *,
        asset_allowed: Callable[[str, Any], bool] | None = None,
        max_bytes: int = MAX_DELTA_BYTES,
    ) -> Delta:
        """Parse and validate a child's delta. `asset_allowed(asset_path, delta_layer)` vets composition arcs."""
        Sdf, _Tf, _Usd = _pxr()
        if not isinstance(data, dict) or data.get("version") != WIRE_VERSION:
            raise DeltaError("delta has an unknown format")
        text = data.get("layer")
        if not isinstance(text, str):
            raise DeltaError("delta layer is missing")
        if len(text) > max_bytes or len(text.encode()) > max_bytes:
            raise DeltaTooLarge(f"the scene delta exceeds {max_bytes} bytes")
        check_wire(data)  # before pxr parses the text or any path: both recurse natively
        copy_s = _str_list(data, "copy", MAX_DELTA_PATHS)
        remove_s = _str_list(data, "remove", MAX_DELTA_PATHS)
        meta_set = _str_list(data, "meta_set", len(META_KEYS))
        meta_clear = _str_list(data, "meta_clear", len(META_KEYS))
        changed = _str_list(data, "changed", CHANGED_PRIMS_CAP)
        total = data.get("changed_total", len(changed))
        if not isinstance(total, int) or total < 0:
            raise DeltaError("delta field 'changed_total' is malformed")
        if not set(meta_set) | set(meta_clear) <= META_KEYS:
            raise DeltaError("delta changes layer metadata that isolated jobs may not change")
        raw_order = data.get("order", {})
        if not isinstance(raw_order, dict) or len(raw_order) > MAX_DELTA_PATHS:
            raise DeltaError("delta field 'order' is malformed")

        def parse(p: str, *, prop_ok: bool = True) -> Any:
            if not Sdf.Path.IsValidPathString(p):
                raise DeltaError(f"invalid path in delta: {p[:200]!r}")
            path = Sdf.Path(p)
            ok = path.IsAbsolutePath() and not path.ContainsPrimVariantSelection()
            ok = ok and (path.IsPrimPath() or (prop_ok and path.IsPrimPropertyPath()))
            if not ok:
                raise DeltaError(f"path not allowed in delta: {p[:200]!r}")
            return path

        layer = Sdf.Layer.CreateAnonymous(".usda")
        try:
            ok = layer.ImportFromString(text)
        except Exception as exc:  # Tf.ErrorException: untrusted text
            raise DeltaError(f"delta layer does not parse: {str(exc)[:300]}") from None
        if not ok:
            raise DeltaError("delta layer does not parse")
        copy = [parse(p) for p in copy_s]
        remove = [parse(p) for p in remove_s]
        for path in copy:
            if layer.GetObjectAtPath(path) is None:
                raise DeltaError(f"delta declares {path} but carries no spec for it")
        if count_specs(layer, copy, MAX_DELTA_SPECS) > MAX_DELTA_SPECS:
            raise DeltaTooLarge(f"the scene delta carries more than {MAX_DELTA_SPECS} specs")
        if set(copy) & set(remove):
            raise DeltaError("delta both copies and removes the same path")
        order: dict[Any, list[str]] = {}
        for parent_s, names in raw_order.items():
            parent = Sdf.Path.absoluteRootPath if parent_s == "/" else parse(parent_s, prop_ok=False)
            valid = isinstance(names, list) and all(isinstance(n, str) and Sdf.Path.IsValidIdentifier(n) for n in names)
            if not valid:
                raise DeltaError("delta field 'order' is malformed")
            order[parent] = names
        if asset_allowed is not None:
            for asset in layer.GetCompositionAssetDependencies():
                if not asset_allowed(asset, layer):
                    raise DeltaError(f"delta refers to an asset outside the policy's roots: {asset[:200]!r}")
            for asset in _asset_values(layer, copy):
                if not asset_allowed(asset, layer, composition=False):
                    raise DeltaError(f"delta carries an asset value outside the policy's roots: {asset[:200]!r}")
        for key in meta_set:
            if key not in SUBLAYER_KEYS and key not in layer.pseudoRoot.ListInfoKeys():
                raise DeltaError(f"delta declares metadata {key!r} but carries no value")
        if (set(meta_set) | set(meta_clear)) & SUBLAYER_KEYS:
            paths = list(layer.subLayerPaths)
            if len(paths) > MAX_SUBLAYERS or not all(isinstance(p, str) and p for p in paths):
                raise DeltaError("delta field 'subLayers' is malformed")
        return cls(layer, copy, remove, order, meta_set, meta_clear, changed, total, data, text_has_arcs(text))

    def apply_to(self, stage_or_layer: Any) -> list[str]:
        """Apply atomically to the stage's edit-target layer; on any failure restore it and re-raise."""
        Sdf, _Tf, _Usd = _pxr()
        target = stage_or_layer
        if hasattr(stage_or_layer, "GetEditTarget"):
            target = stage_or_layer.GetEditTarget().GetLayer()
        if self.empty:
            return list(self.changed_prims)
        backup = _Backup.take(target, self.copy + self.remove, self.order, self.meta_set + self.meta_clear)
        # One change block for apply, budget check and rollback: no stage recomposes before the budget
        # holds, and a refused delta is never composed at all.
        with Sdf.ChangeBlock():
            try:
                self._apply(target)
                change_cost(target, [p for p in self.copy if p.IsPrimPath()], has_arcs=self.has_arcs)
            except BaseException:
                backup.restore(target)
                raise
        return list(self.changed_prims)

    def _apply(self, target: Any) -> None:
        Sdf, _Tf, _Usd = _pxr()
        _remove_specs(target, self.remove)
        for path in self.copy:
            _ensure_prim(target, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            existed = path.IsPrimPath() and target.GetPrimAtPath(path) is not None
            if not Sdf.CopySpec(self.layer, path, target, path):
                raise DeltaError(f"could not apply {path}")
            if existed:  # a fresh copy already has the source's order
                _match_child_orders(self.layer, target, path)
        for parent, names in self.order.items():
            _reorder_children(target, parent, names)
        sublayers = (set(self.meta_set) | set(self.meta_clear)) & SUBLAYER_KEYS
        if sublayers:  # checked against the asset roots in from_wire (GetCompositionAssetDependencies)
            _set_sublayers(target, *_sublayers(self.layer))
        for key in self.meta_set:
            if key not in SUBLAYER_KEYS:
                target.pseudoRoot.SetInfo(key, self.layer.pseudoRoot.GetInfo(key))
        for key in self.meta_clear:
            if key not in SUBLAYER_KEYS:
                target.pseudoRoot.ClearInfo(key)


def _asset_values(layer: Any, roots: list[Any]) -> list[str]:
    """Every asset-typed attribute value (default and time samples) under the declared paths."""
    from pxr import Sdf

    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, Sdf.AssetPath):
            found.append(value.path)
        elif isinstance(value, (list, tuple)) or type(value).__name__ == "AssetPathArray":
            for item in value:
                collect(item)

    def visit(path: Any) -> None:
        if not path.IsPropertyPath():
            return
        spec = layer.GetAttributeAtPath(path)
        if spec is None or spec.typeName.type != Sdf.ValueTypeNames.Asset.type and \
                spec.typeName.type != Sdf.ValueTypeNames.AssetArray.type:
            return
        collect(spec.default)
        for t in layer.ListTimeSamplesForPath(path):
            collect(layer.QueryTimeSample(path, t))

    for root in roots:
        layer.Traverse(root, visit)
    return found


def _ensure_prim(layer: Any, path: Any) -> None:
    from pxr import Sdf

    if path != Sdf.Path.absoluteRootPath and layer.GetPrimAtPath(path) is None:
        Sdf.CreatePrimInLayer(layer, path)


# Below this many children moved or removed per parent, each is handled alone (O(siblings) apiece in
# Sdf); above it the parent's child list is rebuilt once (O(children + their subtrees)).
FEW_CHILD_EDITS = 64


def _remove_spec(layer: Any, path: Any) -> None:
    if path.IsPropertyPath():
        prop = layer.GetPropertyAtPath(path)
        if prop is not None:
            prop.owner.RemoveProperty(prop)
        return
    _remove_specs(layer, [path])


def _remove_specs(layer: Any, paths: Iterable[Any]) -> None:
    """Remove prim and property specs; prims grouped by parent so many siblings cost one rebuild."""
    by_parent: dict[Any, set[str]] = {}
    for path in paths:
        if path.IsPropertyPath():
            _remove_spec(layer, path)
        elif layer.GetPrimAtPath(path) is not None:
            by_parent.setdefault(path.GetParentPath(), set()).add(path.name)
    for parent, names in by_parent.items():
        spec = _parent_spec(layer, parent)
        if len(names) <= FEW_CHILD_EDITS:
            for name in names:
                del spec.nameChildren[name]
        else:
            _rebuild_children(layer, parent, [n for n in _children(layer, parent) if n not in names])


def _parent_spec(layer: Any, parent: Any) -> Any:
    from pxr import Sdf

    return layer.pseudoRoot if parent == Sdf.Path.absoluteRootPath else layer.GetPrimAtPath(parent)


def _children(layer: Any, parent: Any) -> list[str]:
    spec = _parent_spec(layer, parent)
    return [] if spec is None else list(spec.nameChildren.keys())


def _rebuild_children(layer: Any, parent: Any, names: list[str]) -> None:
    """Make the parent's children exactly `names` (existing ones), in that order: copy them aside at the
    same paths (no path remapping), clear the list once, copy them back (each copy appends)."""
    from pxr import Sdf

    hold = Sdf.Layer.CreateAnonymous(".usda")
    for name in names:
        path = parent.AppendChild(name)
        _ensure_prim(hold, parent)
        if not Sdf.CopySpec(layer, path, hold, path):
            raise DeltaError(f"could not reorder {path}")
    _parent_spec(layer, parent).nameChildren.clear()
    for name in names:
        path = parent.AppendChild(name)
        if not Sdf.CopySpec(hold, path, layer, path):
            raise DeltaError(f"could not reorder {path}")


def _child_names(layer: Any, path: Any) -> list[str]:
    spec = _parent_spec(layer, path)
    return [] if spec is None else list(spec.GetInfo("primChildren"))  # ~10x faster than nameChildren


def _match_child_orders(source: Any, target: Any, root: Any) -> None:
    """After `Sdf.CopySpec(source, root, target, root)` onto an existing prim: CopySpec keeps the target's
    order of the children both have, so give each parent in the copied subtree the source's child order
    (one C++ traversal, then one linear re-order per parent that differs; variants skipped). Property
    order needs nothing: the usda text of the delta (and of a saved stage) sorts properties by name."""
    if not root.IsPrimPath():
        return
    paths: list[Any] = []
    source.Traverse(root, paths.append)
    parents = {p.GetParentPath() for p in paths if p.IsPrimPath() and p != root}
    for parent in parents:
        if parent.ContainsPrimVariantSelection():
            continue
        names = _child_names(source, parent)
        if len(names) > 1 and _child_names(target, parent) != names:
            _reorder_children(target, parent, names)


def _kept_prefix(desired: list[str], current: list[str]) -> int:
    """Length of the longest prefix of `desired` that appears in `current` in the same relative order:
    those children stay; the rest are moved to the end in order (two pointers, linear)."""
    i = 0
    for name in current:
        if i < len(desired) and desired[i] == name:
            i += 1
    return i


def _reorder_children(layer: Any, parent: Any, names: list[str]) -> None:
    """Make the parent's child order follow `names` (extra children keep their relative order), linearly.

    Sdf has no in-place reorder here (NamespaceEdit.Reorder fails in 26.11) and moving one child costs
    O(siblings), so moving children one by one was quadratic (40,000 siblings: minutes of host time).
    A few moved children are taken out and appended; more rebuild the child list once.
    """
    from pxr import Sdf

    current = _children(layer, parent)
    wanted_set = set(names)
    existing = set(current)
    desired = [n for n in names if n in existing] + [n for n in current if n not in wanted_set]
    if desired == current:
        return
    moved = desired[_kept_prefix(desired, current):]
    if len(moved) > FEW_CHILD_EDITS:
        _rebuild_children(layer, parent, desired)
        return
    hold = Sdf.Layer.CreateAnonymous(".usda")
    spec = _parent_spec(layer, parent)
    for name in moved:
        path = parent.AppendChild(name)
        _ensure_prim(hold, parent)
        if not Sdf.CopySpec(layer, path, hold, path):
            raise DeltaError(f"could not reorder {path}")
        del spec.nameChildren[name]
    for name in moved:
        path = parent.AppendChild(name)
        if not Sdf.CopySpec(hold, path, layer, path):
            raise DeltaError(f"could not reorder {path}")


@dataclass
class _Backup:
    """The target's specs, child orders and metadata that an apply may touch (for rollback)."""

    layer: Any
    present: list[Any]
    absent: list[Any]
    orders: dict[Any, list[str]]
    meta: dict[str, Any]
    sublayers: tuple[list[str], list[Any]] | None = None

    @classmethod
    def take(cls, target: Any, paths: list[Any], order: dict[Any, list[str]], keys: list[str]) -> _Backup:
        from pxr import Sdf

        backup = Sdf.Layer.CreateAnonymous(".usda")
        present, absent = [], []
        parents = set(order)
        for path in paths:
            if path.IsPrimPath():
                parents.add(path.GetParentPath())
            if target.GetObjectAtPath(path) is None:
                absent.append(path)
                continue
            _ensure_prim(backup, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            if not Sdf.CopySpec(target, path, backup, path):
                raise DeltaError(f"could not back up {path}")
            present.append(path)
        orders = {p: _children(target, p) for p in parents}
        root = target.pseudoRoot
        plain = [k for k in keys if k not in SUBLAYER_KEYS]
        meta = {k: root.GetInfo(k) for k in plain if root.HasInfo(k)}
        subs = _sublayers(target) if set(keys) & SUBLAYER_KEYS else None
        return cls(backup, present, absent, orders, {k: meta.get(k) for k in plain}, subs)

    def restore(self, target: Any) -> None:
        from pxr import Sdf

        _remove_specs(target, self.absent)
        for path in self.present:
            _ensure_prim(target, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            Sdf.CopySpec(self.layer, path, target, path)
            _match_child_orders(self.layer, target, path)
        for parent, names in self.orders.items():
            _reorder_children(target, parent, names)
        for key, value in self.meta.items():
            if value is None:
                target.pseudoRoot.ClearInfo(key)
            else:
                target.pseudoRoot.SetInfo(key, value)
        if self.sublayers is not None:
            _set_sublayers(target, *self.sublayers)


# ------------------------------------------------------------------------------------ host undo / redo


def _missing_ancestors(layer: Any, paths: list[Any]) -> list[Any]:
    """Top-most prim ancestors an apply would create (as `over`) because the layer lacks them."""
    from pxr import Sdf

    found: set[Any] = set()
    for path in paths:
        prim = path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath()
        for prefix in prim.GetPrefixes():
            if prefix != Sdf.Path.absoluteRootPath and layer.GetPrimAtPath(prefix) is None:
                found.add(prefix)
                break
    return sorted(found, key=lambda p: p.pathString)


def _property_orders(layer: Any, paths: list[Any]) -> dict[Any, list[str]]:
    owners = {p.GetPrimPath() for p in paths if p.IsPropertyPath()}
    orders: dict[Any, list[str]] = {}
    for owner in owners:
        spec = layer.GetPrimAtPath(owner)
        if spec is not None:
            orders[owner] = [prop.name for prop in spec.properties]
    return orders


def _reorder_properties(layer: Any, owner: Any, names: list[str]) -> None:
    """Make the owner's property order follow `names`: properties after the first mismatch are moved
    out to a scratch layer and back, which appends them (Sdf has no in-place property reorder)."""
    from pxr import Sdf

    spec = layer.GetPrimAtPath(owner)
    if spec is None:
        return
    current = [prop.name for prop in spec.properties]
    wanted = set(names)
    desired = [n for n in names if n in set(current)] + [n for n in current if n not in wanted]
    if desired == current:
        return
    start = next(i for i, (a, b) in enumerate(zip(desired, current, strict=True)) if a != b)
    scratch = Sdf.Layer.CreateAnonymous(".usda")
    Sdf.CreatePrimInLayer(scratch, owner)
    for name in desired[start:]:
        path = owner.AppendProperty(name)
        if not Sdf.CopySpec(layer, path, scratch, path):
            raise DeltaError(f"could not reorder {path}")
        _remove_spec(layer, path)
        if not Sdf.CopySpec(scratch, path, layer, path):
            raise DeltaError(f"could not reorder {path}")


@dataclass
class _LayerState:
    """Exactly the specs, child and property orders and metadata of one layer that a delta touches."""

    backup: _Backup
    property_orders: dict[Any, list[str]]

    @classmethod
    def take(cls, layer: Any, delta: Delta, created: list[Any]) -> _LayerState:
        paths = [*delta.copy, *delta.remove, *created]
        backup = _Backup.take(layer, paths, delta.order, delta.meta_set + delta.meta_clear)
        return cls(backup, _property_orders(layer, paths))

    def put(self, layer: Any) -> None:
        from pxr import Sdf

        with Sdf.ChangeBlock():
            self.backup.restore(layer)
            for owner, names in self.property_orders.items():
                _reorder_properties(layer, owner, names)


class DeltaUndo:
    """Undo and redo of one applied Delta on one layer, without re-running anything.

    WHY: a host's undo stack (Kit's omni.kit.undo) must restore the layer exactly as it was, and its
    redo must bring back exactly what the job produced, without calling the job's code again. The
    delta names every spec it copies or removes, every child order and every metadata key it sets;
    `take` copies exactly those (plus the ancestors an apply would create and the property order of
    each touched prim) before the apply, `capture_after` copies the same set after it. `restore` and
    `reapply` each write one of those states back inside a single `Sdf.ChangeBlock`, so listeners see
    one change. Main thread (the host's USD thread) only, like `Delta.apply_to`.
    """

    def __init__(self, delta: Delta, layer: Any) -> None:
        self._delta = delta
        self._created = _missing_ancestors(layer, [*delta.copy, *delta.remove])
        self._before = _LayerState.take(layer, delta, self._created)
        self._after: _LayerState | None = None

    @classmethod
    def take(cls, delta: Delta, layer: Any) -> DeltaUndo:
        """Record the `before` state of everything `delta` touches on `layer` (call before applying)."""
        return cls(delta, layer)

    def capture_after(self, layer: Any) -> None:
        """Record the `after` state (call right after `delta.apply_to(layer)` returned)."""
        self._after = _LayerState.take(layer, self._delta, self._created)

    def restore(self, layer: Any) -> None:
        """Put back the `before` state (undo)."""
        self._before.put(layer)

    def reapply(self, layer: Any) -> None:
        """Put back the `after` state (redo); the delta's job is never run again."""
        if self._after is None:
            raise DeltaError("nothing to redo: the delta was never applied")
        self._after.put(layer)
