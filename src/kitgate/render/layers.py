"""Turning the job's layer text back into a stage, composing only assets under the asset base.

Why: the text a worker hands over is the job's result, written by untrusted code. Its sublayers,
references and payloads could name any file on the host (another tenant's shot, a huge usdc), and a picture
of it would leak it. Before the stage is composed, every asset the layers depend on is resolved against
its anchor and must be a file under ``asset_base`` (no base: no external assets at all); after composing,
every layer the stage uses is checked again. Value clips are refused by the scene walk (scene.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pxr import Sdf, Usd

from kitgate.render.errors import RenderError
from kitgate.render.types import asset_bases

MAX_LAYERS = 512
MAX_LAYER_TEXT = 256 * 1024 * 1024


def _inside(path: str, bases: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(real == base or real.startswith(base.rstrip(os.sep) + os.sep) for base in bases)


def _refuse(asset: str, why: str) -> RenderError:
    return RenderError("AssetRefused", f"the layer composes {asset!r}, {why}",
                       "render stages whose sublayers, references and payloads are files under the asset root")


def _check_dependencies(root: Sdf.Layer, base: tuple[str, ...]) -> None:
    """Open every layer ``root`` composes, depth first; each must be a file under one of ``base``."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        layer = todo.pop()
        for asset in sorted(layer.GetCompositionAssetDependencies()):
            if not asset:
                continue
            if not base:
                raise _refuse(asset, "and no asset root was given for this render")
            if "://" in asset or asset.startswith("//"):
                raise _refuse(asset, "which is not a file path")
            if layer.anonymous and not os.path.isabs(asset):
                raise _refuse(asset, "a relative path in a layer with no anchor")
            resolved = layer.ComputeAbsolutePath(asset)
            if not _inside(resolved, base):
                raise _refuse(asset, "which is outside the asset root")
            if resolved in seen:
                continue
            seen.add(resolved)
            if len(seen) > MAX_LAYERS:
                raise RenderError("RenderTooLarge", f"the stage composes more than {MAX_LAYERS} layers",
                                  "flatten the stage before rendering")
            dep = Sdf.Layer.FindOrOpen(resolved)
            if dep is None:
                raise RenderError("RenderFailed", f"the layer composes {asset!r}, which does not open",
                                  "fix or remove the arc")
            todo.append(dep)


def open_layer_text(layer_text: str, asset_base: Path | str | Sequence[Path | str] | None,
                    anchor: str | None) -> Usd.Stage:
    """A stage whose root layer holds ``layer_text``, anchored at ``anchor`` (a file path, for relative arcs;
    the anchor itself is never read). Arcs must resolve under one of the roots in ``asset_base``."""
    if len(layer_text) > MAX_LAYER_TEXT:
        raise RenderError("RenderTooLarge", f"the layer text is {len(layer_text):,} characters, over "
                          f"{MAX_LAYER_TEXT:,}", "render a smaller stage")
    base = asset_bases(asset_base)
    fmt = Sdf.FileFormat.FindById("usda")
    layer = Sdf.Layer.New(fmt, os.path.abspath(anchor)) if anchor else Sdf.Layer.CreateAnonymous("render.usda")
    try:
        parsed = layer is not None and layer.ImportFromString(layer_text)
        detail = ""
    except Exception as exc:  # pxr's Tf.ErrorException carries the parser's line and column
        parsed, detail = False, str(exc).strip().rsplit(" : ", 1)[-1].strip("'\n ")[:300]
    if not parsed:
        raise RenderError("RenderFailed", "the layer text does not parse as usda" + (f": {detail}" if detail else ""),
                          "pass the job's root layer as exported usda text")
    _check_dependencies(layer, base)
    stage = Usd.Stage.Open(layer, Usd.Stage.LoadAll)
    for used in stage.GetUsedLayers():
        if used == layer or used.anonymous:
            continue
        if not base or not used.realPath or not _inside(used.realPath, base):
            raise _refuse(used.identifier, "which the composed stage uses but is outside the asset root")
    return stage
