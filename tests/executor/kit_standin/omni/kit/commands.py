"""Stand-in for omni.kit.commands: Command, register(cls), unregister(cls), execute(name, **kw) -> (ok, result).

Registered name = class name without the "Command" suffix (Kit's convention). Commands with undo()
go on the omni.kit.undo stack. Exceptions from do() propagate (the binding handles both styles)."""

from typing import Any

_REGISTRY: dict[str, type] = {}


class Command:
    def do(self) -> Any:
        raise NotImplementedError

    def undo(self) -> None:
        pass


def _name(cls: type) -> str:
    name = cls.__name__
    return name[: -len("Command")] if name.endswith("Command") else name


def register(cls: type) -> None:
    _REGISTRY[_name(cls)] = cls


def unregister(cls: type) -> None:
    _REGISTRY.pop(_name(cls), None)


def execute(name: str, **kwargs: Any) -> tuple[bool, Any]:
    cls = _REGISTRY.get(name)
    if cls is None:
        return False, None
    command = cls(**kwargs)
    result = command.do()
    if type(command).undo is not Command.undo:
        from omni.kit import undo

        undo._push(command)
    return True, result


def standin_registered() -> list[str]:
    return sorted(_REGISTRY)
