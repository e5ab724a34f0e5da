"""Stand-in for omni.usd: one UsdContext over a real usd-core stage; records accessing threads.

Thread checks: every `get_stage()`, every `Usd.Notice.ObjectsChanged` of the open stage and every
global `Sdf.Notice.LayersDidChange` (any layer in the process, as Kit's layer widgets and live-sync
listen to) is recorded with the thread it ran on. Sdf sends that notice synchronously on the thread
that changed a layer, *also for a new anonymous layer that no stage uses*; so a delta layer built on a
helper thread would run Kit's listeners there. Tests assert every entry is the main thread.
"""

import enum
import threading
from collections.abc import Callable
from typing import Any

ACCESS_THREADS: list[tuple[str, int]] = []  # (what, thread id) for every stage access


class StageEventType(enum.IntEnum):
    SAVED = 0
    SAVE_FAILED = 1
    OPENING = 2
    OPENED = 3
    OPEN_FAILED = 4
    CLOSING = 5
    CLOSED = 6
    ASSETS_LOADED = 10


class _StageEvent:
    def __init__(self, kind: StageEventType) -> None:
        self.type = int(kind)
        self.payload: dict[str, Any] = {}


class _Context:
    def __init__(self) -> None:
        self._stage: Any = None
        self._listener: Any = None
        self._next_id = 1
        self._stage_id = 0
        from omni.kit.app import _EventStream

        self._events = _EventStream()
        from pxr import Sdf, Tf

        self._layers_listener = Tf.Notice.RegisterGlobally(Sdf.Notice.LayersDidChange, self._on_layers)

    def get_stage(self) -> Any:
        ACCESS_THREADS.append(("get_stage", threading.get_ident()))
        return self._stage

    def get_stage_id(self) -> int:
        return self._stage_id

    def get_stage_event_stream(self) -> Any:
        return self._events

    def stage_event_name(self, kind: StageEventType) -> str:
        return f"omni.usd::stage:{StageEventType(kind).name.lower()}"

    # -- test controls -------------------------------------------------------------------------
    def standin_open(self, stage: Any) -> None:
        """Replace the stage (None closes) and dispatch OPENED/CLOSED like Kit, on this thread."""
        from pxr import Tf, Usd

        self._stage = stage
        self._listener = None
        if stage is not None:
            self._listener = Tf.Notice.Register(Usd.Notice.ObjectsChanged, self._on_change, stage)
            self._stage_id = self._next_id
            self._next_id += 1
        kind = StageEventType.OPENED if stage is not None else StageEventType.CLOSED
        self._events.standin_push(_StageEvent(kind))
        import carb.eventdispatcher

        carb.eventdispatcher.get_eventdispatcher().dispatch_event(self.stage_event_name(kind), {})

    def _on_change(self, notice: Any, sender: Any) -> None:
        ACCESS_THREADS.append(("changed", threading.get_ident()))

    def _on_layers(self, notice: Any, sender: Any) -> None:
        ACCESS_THREADS.append(("layers", threading.get_ident()))

    def standin_close(self) -> None:
        if self._layers_listener is not None:
            self._layers_listener.Revoke()
            self._layers_listener = None
        self._listener = None


_CONTEXT: _Context | None = None


def get_context(name: str = "") -> _Context:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = _Context()
    return _CONTEXT


def standin_reset() -> None:
    global _CONTEXT
    if _CONTEXT is not None:
        _CONTEXT.standin_close()
    _CONTEXT = None
    ACCESS_THREADS.clear()


Callback = Callable[..., Any]
