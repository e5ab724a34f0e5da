"""Stand-in for omni.kit.undo: group() context manager, undo(), redo(), over commands' undo()."""

import contextlib
from collections.abc import Iterator
from typing import Any

_STACK: list[list[Any]] = []
_REDO: list[list[Any]] = []
_GROUP: list[list[Any]] = []


def _push(command: Any) -> None:
    if _GROUP:
        _GROUP[-1].append(command)
    else:
        _STACK.append([command])
    _REDO.clear()


@contextlib.contextmanager
def group(remove_if_empty: bool = False) -> Iterator[None]:
    _GROUP.append([])
    try:
        yield
    finally:
        commands = _GROUP.pop()
        if commands or not remove_if_empty:
            if _GROUP:
                _GROUP[-1].extend(commands)
            else:
                _STACK.append(commands)


def undo() -> bool:
    if not _STACK:
        return False
    commands = _STACK.pop()
    for command in reversed(commands):
        command.undo()
    _REDO.append(commands)
    return True


def redo() -> bool:
    if not _REDO:
        return False
    commands = _REDO.pop()
    for command in commands:
        command.do()
    _STACK.append(commands)
    return True


def standin_depth() -> int:
    return len(_STACK)


def standin_reset() -> None:
    _STACK.clear()
    _REDO.clear()
    _GROUP.clear()
