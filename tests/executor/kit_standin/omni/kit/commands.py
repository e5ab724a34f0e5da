"""Stand-in for omni.kit.commands, written from Kit's published behaviour (our own code).

Behaviour and where it is documented or published:
- `Command` is an abstract base with `do()`; a command with a callable `undo()` goes on the undo stack,
  one without does not. The same instance gets `undo()` and, on redo, `do()` again ("If you consider
  also redo operation do()/undo() methods can be called infinite amount of times"): kit-sdk 105
  omni.kit.commands docs, https://docs.omniverse.nvidia.com/kit/docs/kit-sdk/105.0/source/extensions/omni.kit.commands/docs/index.html
  and the ICommand binding docstring "Called when this command object is being executed, either
  originally or in response to a redo request".
- `register(cls)` strips a trailing "Command" from the class name; `unregister(cls)` removes it
  (published omni.kit.commands `command.py`, `register`/`unregister`).
- `execute(name, **kwargs) -> (bool, result)` (docs CMD-EXEC). An unknown name logs an error and returns
  `(False, None)`; otherwise it hands the *new instance* to `omni.kit.undo.execute(command, name,
  kwargs)` (published `command.py`, `execute`). That function catches an exception from `do()`, calls
  `undo()` on what it pushed, logs `carb.log_error("Failed to execute a command: ...")` and returns
  `(False, None)` (published omni.kit.undo `undo.py`, `execute` / `_execute`; see omni/kit/undo.py).
- `set_logging_enabled(False)` silences those error logs (published `command.py`, `_log_error`).

The published sources were read from public mirrors of Kit's Python (stored copies found with the
project's code search, e.g. find_string "return (False, None)" in omni.kit.commands command.py and
"_group_entry = None" in omni.kit.undo undo.py). Facts carried over; no code copied.
"""

from __future__ import annotations

import abc
from typing import Any

_REGISTRY: dict[str, dict[str, type]] = {}
LOGGING_ENABLED = True


class Command(abc.ABC):
    """Base class of every command; `do()` is abstract, `undo()` optional (absent: not undoable)."""

    @abc.abstractmethod
    def do(self) -> Any: ...


def _log_error(message: str) -> None:
    if LOGGING_ENABLED:
        import carb

        carb.log_error(message)


def set_logging_enabled(enabled: bool) -> None:
    global LOGGING_ENABLED
    LOGGING_ENABLED = bool(enabled)


def _short(cls: type) -> str:
    name = cls.__name__
    return name[: -len("Command")] if name.endswith("Command") else name


def register(cls: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Command)):
        _log_error(f"Can't register command: {cls} it is not a subclass of a Command.")
        return
    _REGISTRY.setdefault(_short(cls), {})[cls.__module__] = cls


def unregister(cls: type) -> None:
    _REGISTRY.get(_short(cls), {}).pop(cls.__module__, None)


def get_command_class(name: str) -> type | None:
    module, _, short = name.rpartition(".")
    if short.endswith("Command"):
        short = short[: -len("Command")]
    found = _REGISTRY.get(short, {})
    if len(found) == 1 and not module:
        return next(iter(found.values()))
    return found.get(module) if module else None


def create(name: str, **kwargs: Any) -> Any:
    cls = get_command_class(name)
    return None if cls is None else cls(**kwargs)


def execute(name: str, **kwargs: Any) -> tuple[bool, Any]:
    command = create(name, **kwargs)
    if command is None:
        _log_error(f'Can\'t execute command: "{name}", it wasn\'t registered or ambigious.')
        return False, None
    from omni.kit import undo

    return undo.execute(command, name, kwargs)


def standin_registered() -> list[str]:
    return sorted(name for name, mods in _REGISTRY.items() if mods)
