"""The snapshot cache: what the parent knows of the fork server's copy of the host's edit-target layer.

Why: exporting a large layer for every job, and parsing it again in the server, is most of an isolated
job's cost. The server keeps the last copy under a content id; the parent counts the host layer's
change notices (`LayerWatch`) and, when not one arrived since that copy was sent or synced, names the
copy instead of exporting the layer (`SnapshotCache.snapshot`). A delta the host applied after the
previous job is carried to the server (`note_applied`), so its copy follows the host's edit. Any doubt
(an uncounted layer, a restarted server, a change count that moved by more than the delta) means a
full export: the cache may only make a job cheaper, never make it see a scene other than the host's.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from kitgate.sandbox.delta import Delta

# Below this size the edit-target layer is exported for every job (cheap, and then the scene copy is
# checked by content hash alone); above it an unchanged layer, as counted by its change notices, is
# not exported again (see `LayerWatch`).
SNAPSHOT_REUSE_MIN_BYTES = 64 * 1024

SnapshotBase = tuple[str, int, int | None, str]  # (content id, server starts, change count, identifier)


class LayerWatch:
    """Counts the change notices of one host layer (`Sdf.Notice.LayersDidChangeSentPerLayer`).

    WHY: exporting a 10,000-prim layer costs 50-250 ms and the server must then hash (or parse) it. If
    not one notice arrived since the layer's content was last sent or synced, the server's copy still
    matches and the job can name that copy instead. Sdf sends the notice for every content change
    (also `Clear`, `ImportFromString`, `TransferContent`, reloads) and none for a no-op, so a missed
    change needs a host that blocks notice delivery (C++ `TfNotice::Block`); SECURITY.md lists this.
    Small layers are exported anyway (SNAPSHOT_REUSE_MIN_BYTES), so for them nothing depends on it.
    """

    def __init__(self, layer: Any) -> None:
        from pxr import Sdf, Tf

        self.layer = layer  # a weak handle: it does not keep the host's layer alive
        self.count = 0
        self._listener: Any = Tf.Notice.Register(Sdf.Notice.LayersDidChangeSentPerLayer, self._bump, layer)

    def _bump(self, _notice: Any, _sender: Any) -> None:
        self.count += 1

    def watches(self, layer: Any) -> bool:
        return self._listener is not None and not self.layer.expired and not layer.expired and self.layer == layer

    def close(self) -> None:
        if self._listener is not None:
            self._listener.Revoke()
            self._listener = None


class Known:
    """What the parent knows about the server's copy: the host layer at change count `count` (None:
    not counted, e.g. a Kit FrozenLayer) has exactly the content the server holds as `content_id`."""

    __slots__ = ("watch", "content_id", "count", "starts")

    def __init__(self, watch: LayerWatch | None, content_id: str, count: int | None, starts: int) -> None:
        self.watch = watch
        self.content_id = content_id
        self.count = count
        self.starts = starts


class HostDelta(Delta):
    """A Delta that records the host layer's change count around its own `apply_to`, so the executor
    can tell that the host layer changed by exactly this delta and nothing else."""

    _kg_watch: LayerWatch | None = None
    _kg_base: SnapshotBase | None = None
    _kg_applied: tuple[int, int] | None = None

    def apply_to(self, stage_or_layer: Any) -> list[str]:
        watch = self._kg_watch
        target = stage_or_layer.GetEditTarget().GetLayer() if hasattr(stage_or_layer, "GetEditTarget") \
            else stage_or_layer
        before = watch.count if watch is not None else None
        changed = super().apply_to(stage_or_layer)
        if watch is not None and before is not None and watch.watches(target):
            self._kg_applied = (before, watch.count)
        return changed



class PendingDelta:
    """A child's delta, checked for shape but not yet turned into an Sdf layer.

    WHY: building an Sdf layer (even a new anonymous one) sends `Sdf.Notice.LayersDidChange`
    synchronously on the building thread, to every global listener in the process: in Kit those are
    Kit's own (layer widgets, live sync), which must only run on the main thread. A host that waits for
    the child on a helper thread therefore gets this object and calls `build()` on its main thread,
    right before applying (same validation as `Delta.from_wire`; raises DeltaError/DeltaTooLarge).
    After `build()`, attribute reads fall through to the built delta (so `note_applied` works on it).
    """

    def __init__(self, wire: dict[str, Any], asset_allowed: Any, watch: Any, base: Any) -> None:
        self.wire = wire
        self._asset_allowed = asset_allowed
        self._watch = watch
        self._base = base
        self.built: HostDelta | None = None
        changed = wire.get("changed") if isinstance(wire, dict) else None
        self.changed_prims = [c for c in changed if isinstance(c, str)][:1000] if isinstance(changed, list) else []
        total = wire.get("changed_total") if isinstance(wire, dict) else None
        self.changed_prims_total = total if isinstance(total, int) and total >= 0 else len(self.changed_prims)

    def build(self) -> HostDelta:
        if self.built is None:
            delta = HostDelta.from_wire(self.wire, asset_allowed=self._asset_allowed)
            delta._kg_watch = self._watch
            delta._kg_base = self._base
            self.built = delta
        return self.built

    def __getattr__(self, name: str) -> Any:
        built = self.__dict__.get("built")
        if built is None:
            raise AttributeError(name)
        return getattr(built, name)


@dataclass
class SnapshotPlan:
    """One job's use of the cache: the layer's watch, what the server held, and whether to name it."""

    watch: LayerWatch | None
    known: Known | None
    reuse: bool
    count_at_export: int | None = None
    snapshot_ms: float = 0.0

    def export_instead(self) -> None:
        """The server no longer holds the copy (it restarted or asked): export the layer next time."""
        self.reuse = False


class SnapshotCache:
    """The parent's side of the server's scene copy. Not thread-safe: the executor's lock guards it."""

    def __init__(self) -> None:
        self._watch: LayerWatch | None = None
        self._known: Known | None = None
        self._pending_sync: dict[str, Any] | None = None
        self._last_export_bytes = 0

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def plan(self, layer: Any, starts: int) -> SnapshotPlan:
        """Whether the server (started `starts` times) still holds this layer's content."""
        watch = self._watch_layer(layer)
        known = self._known if self._known is not None and self._known.starts == starts else None
        if known is not None and known.watch is not watch:
            known = None
        # The server holds our layer's content if not one change notice arrived since it was sent/synced.
        reuse = (known is not None and watch is not None and known.watch is watch and watch.watches(layer)
                 and known.count == watch.count and self._last_export_bytes >= SNAPSHOT_REUSE_MIN_BYTES)
        return SnapshotPlan(watch, known, reuse)

    def take_sync(self, layer: Any) -> dict[str, Any] | None:
        """The delta the host applied to this layer after the previous job, once (for the request)."""
        pending, self._pending_sync = self._pending_sync, None
        if pending is not None and pending.get("ident") == layer.identifier:
            return pending
        return None

    def snapshot(self, layer: Any, plan: SnapshotPlan) -> dict[str, Any]:
        """The request's `snapshot`: a reference to the server's copy, or the exported layer text."""
        snap: dict[str, Any] = {"identifier": layer.identifier, "anonymous": layer.anonymous}
        if plan.reuse:
            assert plan.known is not None
            snap["ref"] = plan.known.content_id
            return snap
        plan.count_at_export = plan.watch.count if plan.watch is not None else None
        started = time.perf_counter()
        snap["text"] = layer.ExportToString()
        plan.snapshot_ms += (time.perf_counter() - started) * 1000
        self._last_export_bytes = len(snap["text"])
        return snap

    def record(self, plan: SnapshotPlan, key: Any, starts: int, layer: Any) -> SnapshotBase | None:
        """Remember what the server now holds (its `snapshot_key`); the base a delta of this job sits on."""
        if isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key) and key[1]:
            # The layer as exported (or as referenced) is what the server holds under key[1].
            count = plan.count_at_export if not plan.reuse else (plan.known.count if plan.known is not None else None)
            self._known = Known(plan.watch, key[1], count, starts) if count is not None else None
            return (key[1], starts, count, str(layer.identifier))
        self._known = None
        return None

    def note_applied(self, delta: Any, starts: int) -> None:
        """The host applied `delta` (see Executor.note_applied); `starts`: the current server's count."""
        base = getattr(delta, "_kg_base", None)
        wire = getattr(delta, "wire", None)
        if base is None or wire is None:
            return
        content_id, delta_starts, count_at_execute, ident = base
        watch = getattr(delta, "_kg_watch", None)
        applied = getattr(delta, "_kg_applied", None)
        if getattr(delta, "empty", False):
            return  # nothing changed: the server's copy (and what we know of it) still holds
        count: int | None = None  # not counted (e.g. a FrozenLayer): the server verifies the next text
        if watch is not None:
            # Trust the count only if the layer changed exactly once, by this apply, since the snapshot.
            trusted = applied is not None and applied[0] == count_at_execute and applied[1] == applied[0] + 1
            count = applied[1] if trusted and applied is not None else None
        if delta_starts != starts:
            return
        key = "sync:" + uuid.uuid4().hex
        self._pending_sync = {"base": content_id, "delta": wire, "key": key, "ident": ident}
        self._known = Known(watch, key, count, starts) if count is not None else None

    def _watch_layer(self, layer: Any) -> LayerWatch | None:
        """The change counter of the host's edit-target layer (only real Sdf layers can be counted)."""
        try:
            from pxr import Sdf
        except ImportError:
            return None
        if not isinstance(layer, Sdf.Layer):
            return None
        if self._watch is not None and self._watch.watches(layer):
            return self._watch
        if self._watch is not None:
            self._watch.close()
        self._known = None
        self._watch = LayerWatch(layer)
        return self._watch
