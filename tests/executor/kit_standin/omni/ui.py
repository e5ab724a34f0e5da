"""Stand-in for omni.ui: Window(.frame, .visible, .destroy), VStack, Label(.text), Button(clicked_fn)."""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

WINDOWS: list["Window"] = []
_BUILDING: list[list[Any]] = []


class _Frame:
    def __init__(self, window: "Window") -> None:
        self._window = window

    def __enter__(self) -> "_Frame":
        _BUILDING.append(self._window.widgets)
        return self

    def __exit__(self, *exc: object) -> None:
        _BUILDING.pop()


class Window:
    def __init__(self, title: str, width: int = 400, height: int = 300, visible: bool = True, **kw: Any) -> None:
        self.title = title
        self.visible = visible
        self.widgets: list[Any] = []
        self.frame = _Frame(self)
        self.destroyed = False
        WINDOWS.append(self)

    def destroy(self) -> None:
        self.destroyed = True


@contextlib.contextmanager
def VStack(**kw: Any) -> Iterator[None]:  # noqa: N802
    yield


@contextlib.contextmanager
def HStack(**kw: Any) -> Iterator[None]:  # noqa: N802
    yield


class Label:
    def __init__(self, text: str = "", **kw: Any) -> None:
        self.text = text
        if _BUILDING:
            _BUILDING[-1].append(self)


class Button:
    def __init__(self, text: str = "", clicked_fn: Callable[[], None] | None = None, **kw: Any) -> None:
        self.text = text
        self.clicked_fn = clicked_fn
        if _BUILDING:
            _BUILDING[-1].append(self)

    def standin_click(self) -> None:
        if self.clicked_fn is not None:
            self.clicked_fn()
