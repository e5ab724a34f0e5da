"""Policies as one base plus overlays, flattened into the single files that workers verify.

Why: the shipped policies share almost all of their read surface. Kept as three hand-edited copies, a
security fix made to one and forgotten in another is the likeliest way to ship a hole. So the surface is
authored once (`policies/sources/usd-read.toml`) and each wider policy is an overlay on the one below it
(`extends = "..."`). `make policies` flattens the sources into `policies/<name>.toml`; the flat files are
what gets shipped, digested and verified, one file per policy as before.

Overlay rules (data, not code):
- scalars (`name`, `description`, `mode`, `requires_approval`, `read_only`) replace the base's;
- lists (`asset_roots`, `builtins`, `metadata_keys`, `attributes`, `settable`) are the union, base order
  first; `[remove]` narrows them (`remove.builtins`, `[remove.modules."m"] attributes`, ...);
- `[limits]` and `[render]` (the picture caps) replace key by key;
- widening what the base forbids must be said out loud: an overlay that turns `read_only` off, moves
  from `isolated` to `in_process`, drops `requires_approval`, raises a limit, adds an asset root or adds a
  builtin fails to flatten unless that key is in its `widens` list (`"read_only"`, `"mode"`,
  `"requires_approval"`, `"limits.memory_mb"`, `"asset_roots"`, `"builtins"`); turning `render.allowed` on
  or raising a `[render]` cap likewise needs `"render.<key>"`.

User policies may also say `extends = "scene-edit"`: the loader flattens them the same way and digests
the flattened text, so a worker that flattens the same files gets the same digest.

The emitter is ours rather than a TOML-writing library because the worker (inside Kit) flattens user
overlays too and must not grow a dependency; the schema has four value types.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_EXTENDS_DEPTH = 4
SCALARS = ("name", "description", "mode", "requires_approval", "read_only")
TOP_LISTS = ("asset_roots", "builtins", "metadata_keys")
RULE_LISTS = ("attributes", "settable")
OVERLAY_KEYS = frozenset({"extends", "widens", "remove"})
WIDEN_KEYS = frozenset({"read_only", "mode", "requires_approval", "asset_roots", "builtins"})
HEADER = (
    "# Allow-lists only: a module, attribute, method or builtin not named here is unreachable.",
    "# Relative asset_roots resolve against KITGATE_ASSET_ROOT (no variable -> no relative roots).",
    "# Scripts get the job stage as the global `stage` (None when the job has none). The value of the last",
    "# expression statement, or a global named `result`, is returned as JSON.",
)

RawPolicy = dict[str, Any]
_PACKAGE = Path(__file__).resolve().parents[1] / "policies"  # src/kitgate/policies in a checkout
BaseLoader = Callable[[str], RawPolicy]


class LayerError(ValueError):
    """An overlay that cannot be flattened; the message names the policy and what to change."""


def _union(base: list[str], extra: list[str]) -> list[str]:
    seen = set(base)
    out = list(base)
    for item in extra:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _without(items: list[str], drop: list[str]) -> list[str]:
    gone = set(drop)
    return [i for i in items if i not in gone]


def _merge_rules(base: dict[str, Any], extra: dict[str, Any], drop: dict[str, Any]) -> dict[str, Any]:
    """Merge `[modules]` or `[types]` tables: attribute lists are unions, `item_write` ors, drops narrow."""
    out: dict[str, Any] = {k: dict(v) for k, v in base.items()}
    for key, spec in extra.items():
        merged = dict(out.get(key, {}))
        for field in RULE_LISTS:
            if field in spec:
                merged[field] = _union(list(merged.get(field, [])), list(spec[field]))
        if "item_write" in spec:
            merged["item_write"] = bool(merged.get("item_write", False)) or bool(spec["item_write"])
        unknown = set(spec) - set(RULE_LISTS) - {"item_write"}
        for field in unknown:  # let the policy parser name the bad key
            merged[field] = spec[field]
        out[key] = merged
    for key, spec in drop.items():
        if key not in out:
            continue
        for field in RULE_LISTS:
            if field in spec and field in out[key]:
                out[key][field] = _without(out[key][field], list(spec[field]))
        if spec.get("item_write") is False:
            out[key]["item_write"] = False
        if not any(out[key].get(field) for field in RULE_LISTS) and not out[key].get("item_write"):
            del out[key]  # everything removed: the module or type is gone, not reachable-but-empty
    return out


def merge(base: RawPolicy, overlay: RawPolicy) -> RawPolicy:
    """The flat policy an overlay describes on top of an already flat base (pure data, no checks)."""
    remove = overlay.get("remove", {})
    flat: RawPolicy = {}
    for key in SCALARS:
        if key in overlay:
            flat[key] = overlay[key]
        elif key in base:
            flat[key] = base[key]
    for key in TOP_LISTS:
        items = _union(list(base.get(key, [])), list(overlay.get(key, [])))
        flat[key] = _without(items, list(remove.get(key, [])))
    limits = dict(base.get("limits", {}))
    limits.update(overlay.get("limits", {}))
    flat["limits"] = limits
    if "render" in base or "render" in overlay:
        render = dict(base.get("render", {}))
        render.update(overlay.get("render", {}))
        flat["render"] = render
    for table in ("modules", "types"):
        flat[table] = _merge_rules(base.get(table, {}), overlay.get(table, {}), remove.get(table, {}))
    for key, value in overlay.items():  # unknown keys pass through so the parser can name them
        if key not in flat and key not in OVERLAY_KEYS:
            flat[key] = value
    return flat


def widenings(base: RawPolicy, flat: RawPolicy) -> list[str]:
    """What the flat policy allows that its base forbade, as `widens` keys."""
    found: list[str] = []
    if base.get("read_only", False) and not flat.get("read_only", False):
        found.append("read_only")
    if base.get("mode") == "isolated" and flat.get("mode") == "in_process":
        found.append("mode")
    if base.get("requires_approval", False) and not flat.get("requires_approval", False):
        found.append("requires_approval")
    for key, value in flat.get("limits", {}).items():
        old = base.get("limits", {}).get(key)
        if isinstance(old, (int, float)) and isinstance(value, (int, float)) and value > old:
            found.append(f"limits.{key}")
    base_render, flat_render = base.get("render", {}), flat.get("render", {})
    if flat_render.get("allowed") is True and base_render.get("allowed") is not True:
        found.append("render.allowed")
    for key, value in flat_render.items():
        old = base_render.get(key)
        if key != "allowed" and isinstance(old, (int, float)) and isinstance(value, (int, float)) and value > old:
            found.append(f"render.{key}")
    for key in ("asset_roots", "builtins"):
        if set(flat.get(key, [])) - set(base.get(key, [])):
            found.append(key)
    return found


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_rules(name: str, where: str, table: Any) -> None:
    """`[modules]`/`[types]` (or their `[remove.*]` twins): a table of tables of string lists."""
    if not isinstance(table, dict):
        raise LayerError(f"policy {name!r}: [{where}] must be a table of tables")
    for key, spec in table.items():
        if not isinstance(spec, dict):
            raise LayerError(f"policy {name!r}: [{where}.{json.dumps(key)}] must be a table")
        for field in RULE_LISTS:
            if field in spec and not _is_str_list(spec[field]):
                raise LayerError(f"policy {name!r}: {where}.{key}.{field} must be a list of strings")


def _check_shape(name: str, layer: RawPolicy, where: str = "") -> None:
    """The shapes merge() relies on, so that a malformed overlay is a LayerError naming the key, not a
    TypeError; values are then checked by the policy parser on the flat result."""
    for key in TOP_LISTS:
        if key in layer and not _is_str_list(layer[key]):
            raise LayerError(f"policy {name!r}: {where}{key} must be a list of strings")
    for table in ("limits", "render"):
        if table in layer and not isinstance(layer[table], dict):
            raise LayerError(f"policy {name!r}: [{where}{table}] must be a table")
    for table in ("modules", "types"):
        if table in layer:
            _check_rules(name, where + table, layer[table])


def _check_overlay(name: str, overlay: RawPolicy) -> list[str]:
    widens = overlay.get("widens", [])
    if not isinstance(widens, list) or not all(isinstance(w, str) for w in widens):
        raise LayerError(f"policy {name!r}: widens must be a list of strings")
    for w in widens:
        if w not in WIDEN_KEYS and not w.startswith(("limits.", "render.")):
            raise LayerError(f"policy {name!r}: unknown widens entry {w!r} (one of {', '.join(sorted(WIDEN_KEYS))}"
                             ", or limits.<key>, render.<key>)")
    remove = overlay.get("remove", {})
    if not isinstance(remove, dict):
        raise LayerError(f"policy {name!r}: [remove] must be a table")
    _check_shape(name, overlay)
    _check_shape(name, remove, "remove.")
    return widens


def flatten(overlay: RawPolicy, load_base: BaseLoader, depth: int = 0) -> RawPolicy:
    """Resolve `extends` recursively (bases are loaded by name) and return the flat raw policy.

    Raises LayerError when a base is missing, the chain is too deep, or the overlay widens something its
    base forbids without listing it in `widens`."""
    name = str(overlay.get("name", "<policy>"))
    parent = overlay.get("extends")
    if parent is None:
        _check_shape(name, overlay)  # a base another policy extends: merge() relies on its shapes too
        return {k: v for k, v in overlay.items() if k not in OVERLAY_KEYS}
    if not isinstance(parent, str) or not parent:
        raise LayerError(f"policy {name!r}: extends must name a policy")
    if depth >= MAX_EXTENDS_DEPTH:
        raise LayerError(f"policy {name!r}: extends chain deeper than {MAX_EXTENDS_DEPTH}")
    widens = _check_overlay(name, overlay)
    base = flatten(load_base(parent), load_base, depth + 1)
    flat = merge(base, overlay)
    undeclared = [w for w in widenings(base, flat) if w not in widens]
    if undeclared:
        raise LayerError(
            f"policy {name!r} widens what {parent!r} forbids: {', '.join(undeclared)}. If that is intended, "
            f"say so with widens = {json.dumps(undeclared)}"
        )
    return flat


# ------------------------------------------------------------------------------------------------- emit
def _str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _str(value)
    raise LayerError(f"cannot write {type(value).__name__} values into a policy")


def _list(key: str, items: list[Any], width: int = 110) -> list[str]:
    if not items:
        return [f"{key} = []"]
    lines = [f"{key} = ["]
    current = " "
    for i, item in enumerate(items):
        piece = _scalar(item) + ("," if i < len(items) - 1 else "")
        if len(current) + 1 + len(piece) > width and current.strip():
            lines.append(current.rstrip())
            current = " "
        current += " " + piece
    lines.append(current.rstrip())
    lines.append("]")
    return lines


def _table_body(spec: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in spec.items():
        if isinstance(value, list):
            out.extend(_list(key, value))
        elif isinstance(value, dict):
            raise LayerError(f"nested table {key!r} is not part of the policy schema")
        else:
            out.append(f"{key} = {_scalar(value)}")
    return out


def emit(flat: RawPolicy, source: str = "") -> str:
    """Canonical TOML text of a flat policy: the bytes that are shipped and digested."""
    name = str(flat.get("name", ""))
    origin = f" Generated from {source} by `make policies`: edit the source, not this file." if source else ""
    lines = [f"# kitgate policy '{name}'.{origin}", *HEADER]
    for key in SCALARS:
        if key in flat:
            lines.append(f"{key} = {_scalar(flat[key])}")
    for key in TOP_LISTS:
        if key in flat:
            lines.extend(_list(key, list(flat[key])))
    rest = {k: v for k, v in flat.items() if k not in SCALARS and k not in TOP_LISTS}
    for key, value in rest.items():
        if key in ("limits", "render", "modules", "types") or isinstance(value, dict):
            continue
        lines.append(f"{key} = {_scalar(value)}")
    lines += ["", "[limits]"]
    lines.extend(f"{k} = {_scalar(v)}" for k, v in flat.get("limits", {}).items())
    if "render" in flat:
        lines += ["", "[render]"]
        lines.extend(f"{k} = {_scalar(v)}" for k, v in flat["render"].items())
    for table in ("modules", "types"):
        for key, spec in flat.get(table, {}).items():
            lines += ["", f"[{table}.{_str(key)}]"]
            lines.extend(_table_body(spec))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- shipped policies
def _read(path: Path) -> RawPolicy:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LayerError(f"{path.name}: {exc}") from None


def build_shipped(src_dir: Path) -> dict[str, str]:
    """Flatten every `src_dir/*.toml` source: {policy name: flat text}. Bases are other sources by stem."""
    sources = {p.stem: p for p in sorted(src_dir.glob("*.toml"))}

    def load_base(stem: str) -> RawPolicy:
        if stem not in sources:
            raise LayerError(f"extends {stem!r}: no policies/sources/{stem}.toml")
        return _read(sources[stem])

    out: dict[str, str] = {}
    for stem, path in sources.items():
        raw = _read(path)
        flat = flatten(raw, load_base)
        name = str(flat.get("name", stem))
        out[name] = emit(flat, f"policies/sources/{path.name}")
    return out


def write_shipped(src_dir: Path, out_dir: Path) -> list[Path]:
    """`make policies`: write the flat files; returns the paths whose bytes changed."""
    changed: list[Path] = []
    for name, text in build_shipped(src_dir).items():
        target = out_dir / f"{name}.toml"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(target)
    return changed


def main(argv: list[str] | None = None) -> int:
    """`python -m kitgate.sandbox.policy_layers [SRC_DIR OUT_DIR]` (what `make policies` runs)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    src, out = (Path(args[0]), Path(args[1])) if len(args) == 2 else (_PACKAGE / "sources", _PACKAGE)
    try:
        changed = write_shipped(src, out)
    except LayerError as exc:
        print(f"make policies: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"{out}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
