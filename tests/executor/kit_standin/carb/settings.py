"""Stand-in for carb.settings: a flat path -> value dict with the documented accessors."""

from typing import Any


class _Settings:
    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        return self._values.get(path)

    def set(self, path: str, value: Any) -> None:
        self._values[path] = value

    def set_default(self, path: str, value: Any) -> None:
        self._values.setdefault(path, value)

    def get_as_string(self, path: str) -> str:
        value = self._values.get(path)
        return "" if value is None else str(value)

    def set_string(self, path: str, value: str) -> None:
        self._values[path] = str(value)

    def standin_clear(self) -> None:
        self._values.clear()


_SETTINGS = _Settings()


def get_settings() -> _Settings:
    return _SETTINGS
