"""Shared helpers for the isolated/executor/CLI tests: custom-limit policies and stage copies."""

from __future__ import annotations

import importlib.resources
import os
import tomllib
from pathlib import Path
from typing import Any

from pxr import Sdf, Usd


def policy_with_limits(directory: Path, name: str, base: str = "scene-edit", asset_roots: list[str] | None = None,
                       **limits: Any) -> Any:
    """A copy of a shipped policy under a new name with some limits changed (real loader, real file)."""
    from kitgate.sandbox.policy import load_policy
    from kitgate.sandbox.policy_layers import emit

    raw = tomllib.loads(importlib.resources.files("kitgate.policies").joinpath(f"{base}.toml").read_text())
    raw["name"] = name
    if asset_roots is not None:
        raw["asset_roots"] = list(asset_roots)
    for key, value in limits.items():
        assert key in raw["limits"], key
        raw["limits"][key] = value
    text = emit(raw)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(text)
    return load_policy(name, directory)


# What a job sees of its scene; the same script runs as plain Python on the host's stage to compare.
LOOK = """
seen = []
for prim in stage.Traverse():
    size = prim.GetAttribute("size")
    seen.append([str(prim.GetPath()), str(prim.GetTypeName()), size.Get() if size else None])
result = {"prims": seen, "end": stage.GetEndTimeCode()}
"""


def plain_look(stage: Usd.Stage) -> Any:
    """LOOK run as plain Python on `stage`: the reference a sandboxed job's value must match."""
    g: dict[str, Any] = {"stage": stage}
    exec(compile(LOOK, "<plain>", "exec"), g)  # noqa: S102 - the reference the sandboxed job must match
    return g["result"]


def stage_from(text: str) -> Usd.Stage:
    layer = Sdf.Layer.CreateAnonymous(".usda")
    assert layer.ImportFromString(text)
    return Usd.Stage.Open(layer)


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    out: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    if not task_dir.exists():
        return out
    for task in task_dir.iterdir():
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:  # reaped between the kill(0) and the read
        return False
    return state != "Z"
