"""Stand-in for omni.kit.undo, written from Kit's published behaviour (our own code).

Behaviour and its source (published omni.kit.undo `undo.py` in omni.kit.commands; docs UNDO-GRP,
CMD-BEGIN, CMD-ENDGRP and the 1.5.0-1.6.2 changelog,
https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/1.6.2/CHANGELOG.html):
- The undo stack holds entries (command, name, level). A command executed inside another command or
  inside a group has level >= 1; undo pops entries down to and including the last level-0 entry.
- `execute(command, name, kwargs)`: an undoable command gets an entry *before* `do()` runs. If `do()`
  raises, the entries it pushed are popped and undone (this command's `undo()` included), a level-0
  entry is put on the REDO stack, and `execute` logs `carb.log_error("Failed to execute a command")`
  and returns `(False, None)` (`execute` / `_execute`).
- A level-0 command that succeeds clears the redo stack unless a redo is running (`_create_entry`).
- `begin_group()` ALWAYS pushes a level-0 "Group" entry (a GroupCommand with an empty undo), even if no
  command follows or every command fails; `end_group()` lets a later redo re-execute the group's
  children. `group(remove_if_empty=False)` wraps the pair; `remove_if_empty` drops an empty group
  (changelog 1.5.0, "Add argument remove_if_empty to remove empty group from undo stack").
- `undo()` calls `undo()` of each popped entry; a raising `undo()` is logged with `carb.log_error`.
- `redo()` pops the redo stack and executes the SAME command object again, i.e. calls its `do()`
  (`Redo.do` -> `_execute_group_entries`, which only builds new instances for `repeat`).
- Commands, undo and redo belong to the main thread [inferred: plain Python
  state; Kit's rule that omni.usd and commands belong to the main thread]; this
  stand-in records a violation in THREAD_VIOLATIONS so tests can assert it never happens.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Entry:
    command: Any
    name: str
    level: int


class GroupCommand:
    def __init__(self) -> None:
        self.children: list[Entry] = []

    def do(self) -> bool:
        for child in self.children:
            ok, _ = execute(child.command, child.name, {})
            if not ok:
                raise RuntimeError("Failed to redo or repeat commands")
        return True

    def undo(self) -> None:
        pass


_UNDO: list[Entry] = []
_REDO: list[Entry] = []
_state = {"level": 0, "group_count": 0, "in_redo": False}
_group: list[Entry] = []
THREAD_VIOLATIONS: list[str] = []
MAIN_THREAD = threading.main_thread().ident


def _check_thread(what: str) -> None:
    if threading.get_ident() != MAIN_THREAD:
        THREAD_VIOLATIONS.append(f"{what} on thread {threading.current_thread().name}")


def _log_error(message: str) -> None:
    from omni.kit import commands

    commands._log_error(message)


def _push(command: Any, name: str, level: int) -> Entry:
    entry = Entry(command, name, level)
    if level == 0 and not _state["in_redo"]:
        _REDO.clear()
    _UNDO.append(entry)
    return entry


def _run_undoable(command: Any, name: str, level: int) -> Any:
    entry = _push(command, name, level)
    try:
        return command.do()
    except Exception:
        while _UNDO:
            last = _UNDO.pop()
            try:
                last.command.undo()
            except Exception as exc:  # noqa: BLE001 - published: each undo is trapped and logged
                _log_error(f"Failed to undo a command: {last.name}.\n{exc!r}")
            if last is entry:
                if level == 0:
                    _REDO.append(entry)
                break
        raise


def execute(command: Any, name: str, kwargs: dict[str, Any]) -> tuple[bool, Any]:
    _check_thread(f"execute {name}")
    level = _state["level"]
    _state["level"] += 1
    try:
        undoable = callable(getattr(command, "undo", None))
        result = _run_undoable(command, name, level) if undoable else command.do()
    except Exception as exc:  # noqa: BLE001 - published: any exception from do()
        _log_error(f"Failed to execute a command: {name}.\n{type(exc).__name__}: {exc}")
        return False, None
    finally:
        _state["level"] -= 1
    return True, result


def begin_group() -> None:
    _check_thread("begin_group")
    _state["group_count"] += 1
    if _state["group_count"] == 1:
        entry = _push(GroupCommand(), "Group", _state["level"])
        _state["level"] += 1
        _group.append(entry)


def end_group(remove_if_empty: bool = False) -> None:
    _check_thread("end_group")
    if _state["group_count"] == 0:
        return
    _state["group_count"] -= 1
    if _state["group_count"] == 0 and _group:
        entry = _group.pop()
        _state["level"] -= 1
        index = next(i for i, e in enumerate(_UNDO) if e is entry)
        entry.command.children = [e for e in _UNDO[index + 1 :] if e.level == entry.level + 1]
        if remove_if_empty and index == len(_UNDO) - 1:
            _UNDO.pop()


@contextlib.contextmanager
def group(remove_if_empty: bool = False) -> Iterator[None]:
    begin_group()
    try:
        yield
    finally:
        end_group(remove_if_empty)


def undo() -> bool:
    _check_thread("undo")
    if not _UNDO:
        return False
    while _UNDO:
        entry = _UNDO.pop()
        try:
            entry.command.undo()
        except Exception as exc:  # noqa: BLE001
            _log_error(f"Failed to undo a command: {entry.name}.\n{exc!r}")
        if entry.level == 0:
            _REDO.append(entry)
            break
    return True


def redo() -> bool:
    _check_thread("redo")
    if not _REDO:
        return False
    entry = _REDO.pop()
    _state["in_redo"] = True
    try:
        ok, _ = execute(entry.command, entry.name, {})  # the same object: its do() runs again
    finally:
        _state["in_redo"] = False
    return ok


def can_undo() -> bool:
    return bool(_UNDO)


def can_redo() -> bool:
    return bool(_REDO)


def get_undo_stack() -> list[Entry]:
    return _UNDO


def get_redo_stack() -> list[Entry]:
    return _REDO


def standin_depth() -> int:
    return len(_UNDO)


def standin_reset() -> None:
    _UNDO.clear()
    _REDO.clear()
    _group.clear()
    _state.update(level=0, group_count=0, in_redo=False)
    THREAD_VIOLATIONS.clear()
