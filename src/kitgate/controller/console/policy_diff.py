"""What a policy allows beyond `scene-edit`, the baseline an operator already knows.

Why: an approver is asked "may this trusted job touch the live session?". The honest answer depends on
what the job's policy adds to the everyday one, so the approval queue shows that difference, computed
from the loaded policy objects (kitgate.sandbox.policy), never from a hand-written summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASELINE = "scene-edit"


@dataclass(frozen=True)
class PolicyDiff:
    """Only what `policy` allows and the baseline does not (`wider`), plus what it allows less (`narrower`)."""

    policy: str
    baseline: str
    wider: list[str] = field(default_factory=list)
    narrower: list[str] = field(default_factory=list)
    builtins: list[str] = field(default_factory=list)
    modules: dict[str, list[str]] = field(default_factory=dict)  # module -> names added ("*" = a new module)
    types: dict[str, list[str]] = field(default_factory=dict)  # type -> what is added (names, "set x", "item writes")

    @property
    def same(self) -> bool:
        return not (self.wider or self.narrower or self.builtins or self.modules or self.types)


def _names(rule: Any) -> set[str]:
    return set(rule.attributes) | set(rule.patterns)


def diff_policy(policy: Any, baseline: Any) -> PolicyDiff:
    wider: list[str] = []
    narrower: list[str] = []
    if policy.mode != baseline.mode:
        wider.append(f"runs {policy.mode.replace('_', '-')} (the baseline runs {baseline.mode.replace('_', '-')})")
    if policy.requires_approval and not baseline.requires_approval:
        narrower.append("every job waits for an operator's approval")
    if baseline.read_only and not policy.read_only:
        wider.append("may change the stage (the baseline is read-only)")
    if policy.read_only and not baseline.read_only:
        narrower.append("read-only: no scene changes are carried back")
    ours, theirs = policy.limits.to_dict(), baseline.limits.to_dict()
    for name, value in ours.items():
        base = theirs.get(name)
        if base is None or value == base:
            continue
        (wider if value > base else narrower).append(f"{name} {value:g} (baseline {base:g})")
    extra_roots = len(policy.asset_roots) - len(baseline.asset_roots)
    if extra_roots > 0:
        wider.append(f"{extra_roots} more asset root(s)")
    extra_meta = sorted(set(policy.metadata_keys) - set(baseline.metadata_keys))
    if extra_meta:
        wider.append("metadata keys " + ", ".join(extra_meta))
    modules: dict[str, list[str]] = {}
    for name, rule in sorted(policy.modules.items()):
        base_rule = baseline.modules.get(name)
        added = sorted(_names(rule) - (_names(base_rule) if base_rule is not None else set()))
        if base_rule is None:
            modules[name] = ["(new module)", *added]
        elif added:
            modules[name] = added
    types: dict[str, list[str]] = {}
    for name, rule in sorted(policy.types.items()):
        base_rule = baseline.types.get(name)
        if base_rule is None:
            types[name] = ["(new type)", *sorted(_names(rule))] + [f"set {s}" for s in sorted(rule.settable)]
            if rule.item_write:
                types[name].append("item writes")
            continue
        added = sorted(_names(rule) - _names(base_rule))
        added += [f"set {s}" for s in sorted(set(rule.settable) - set(base_rule.settable))]
        if rule.item_write and not base_rule.item_write:
            added.append("item writes")
        if added:
            types[name] = added
    gone_modules = sorted(set(baseline.modules) - set(policy.modules))
    if gone_modules:
        narrower.append("no module " + ", ".join(gone_modules))
    gone_types = sorted(set(baseline.types) - set(policy.types))
    if gone_types:
        shown = ", ".join(gone_types[:8]) + (f" and {len(gone_types) - 8} more" if len(gone_types) > 8 else "")
        narrower.append("no type " + shown)
    gone_builtins = sorted(set(baseline.builtins) - set(policy.builtins))
    if gone_builtins:
        narrower.append("no builtin " + ", ".join(gone_builtins))
    return PolicyDiff(
        policy=policy.name, baseline=baseline.name, wider=wider, narrower=narrower,
        builtins=sorted(set(policy.builtins) - set(baseline.builtins)), modules=modules, types=types,
    )
