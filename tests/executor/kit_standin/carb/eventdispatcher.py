"""Stand-in for carb.eventdispatcher (Events 2.0): observe_event returns a guard; dropping or
resetting the guard stops delivery. Observers run on the thread that dispatches
(Kit 107+ Events 2.0, carb.eventdispatcher docs)."""

import contextlib
import weakref
from collections.abc import Callable
from typing import Any


class Event:
    def __init__(self, event_name: str, payload: dict[str, Any]) -> None:
        self.event_name = event_name
        self.payload = payload

    def get(self, key: str) -> Any:
        return self.payload.get(key)

    def has_key(self, key: str) -> bool:
        return key in self.payload

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]


class ObserverGuard:
    def __init__(self, dispatcher: "_Dispatcher", name: str, fn: Callable[[Event], None]) -> None:
        self._dispatcher = dispatcher
        self._entry: tuple[str, Callable[[Event], None]] | None = (name, fn)
        dispatcher._observers.append(weakref.ref(self))

    def reset(self) -> None:
        if self._entry is not None:
            self._entry = None
            self._dispatcher._observers[:] = [r for r in self._dispatcher._observers if r() not in (None, self)]

    def __del__(self) -> None:
        with contextlib.suppress(ValueError):
            self.reset()


class _Dispatcher:
    def __init__(self) -> None:
        self._observers: list[weakref.ref[ObserverGuard]] = []  # the guard owns the observation

    def observe_event(self, order: int = 0, *, event_name: str, on_event: Callable[[Event], None],
                      filter: Any = None, observer_name: str = "") -> ObserverGuard:  # noqa: A002
        return ObserverGuard(self, event_name, on_event)

    def dispatch_event(self, event_name: str, payload: dict[str, Any] | None = None) -> None:
        event = Event(event_name, payload or {})
        for ref in list(self._observers):
            guard = ref()
            entry = guard._entry if guard is not None else None
            if entry is not None and entry[0] == event_name:
                entry[1](event)

    def standin_count(self) -> int:
        return sum(1 for r in self._observers if r() is not None and r()._entry is not None)


_DISPATCHER = _Dispatcher()


def get_eventdispatcher() -> _Dispatcher:
    return _DISPATCHER
