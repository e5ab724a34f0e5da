"""Stand-in for omni.kit.app: get_app() with the legacy update stream, and GLOBAL_EVENT_UPDATE.

`standin_update(dt)` pumps one update on the calling thread (the test's "main thread")."""

from collections.abc import Callable
from typing import Any

GLOBAL_EVENT_UPDATE = "omni.kit.app:update"


class _Payload:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.type = 0


class _Subscription:
    def __init__(self, stream: "_EventStream", fn: Callable[[Any], None]) -> None:
        self._stream = stream
        self._fn: Callable[[Any], None] | None = fn
        stream._subs.append(self)

    def unsubscribe(self) -> None:
        if self._fn is not None:
            self._fn = None
            self._stream._subs.remove(self)


class _EventStream:
    def __init__(self) -> None:
        self._subs: list[_Subscription] = []

    def create_subscription_to_pop(self, fn: Callable[[Any], None], name: str | None = None,
                                   order: int = 0) -> _Subscription:
        return _Subscription(self, fn)

    def standin_push(self, event: Any) -> None:
        for sub in list(self._subs):
            if sub._fn is not None:
                sub._fn(event)


class _App:
    def __init__(self) -> None:
        self._update = _EventStream()

    def get_update_event_stream(self) -> _EventStream:
        return self._update

    def is_running(self) -> bool:
        return True


_APP = _App()


def get_app() -> _App:
    return _APP


def standin_update(dt: float = 1 / 60) -> None:
    """One frame: legacy stream subscribers and Events 2.0 observers, on the calling thread."""
    _APP._update.standin_push(_Payload({"dt": dt}))
    import carb.eventdispatcher

    name = globals().get("GLOBAL_EVENT_UPDATE")  # a test may remove it to play Kit < 107
    if name is not None:
        carb.eventdispatcher.get_eventdispatcher().dispatch_event(name, {"dt": dt})
    import sys

    engine = sys.modules.get("omni.kit.async_engine")  # Kit's asyncio loop runs once per update [doc: AE-OV]
    if engine is not None:
        engine.standin_step()
