"""Stand-in for omni.kit.async_engine: `run_coroutine` on Kit's main-thread loop, one step per app update.

Kit behaviour mimicked (sources in /work/shared/kit-extension-facts.md):
- the asyncio loop is the main-thread loop and "integrate[s] Python's asyncio with the application's update
  cycle": it runs once per app update [doc: AE-OV];
- `run_coroutine(coroutine)` submits a coroutine to that loop and, called from the main thread, returns a
  Task (`done()`, `result()`, `cancel()`) [doc: AE-RC].
`standin_step()` is called by `omni.kit.app.standin_update()`: each pending coroutine advances one frame.
No Kit code was copied.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

_PENDING: list[_Task] = []


class _NotDone(Exception):
    pass


class _Task:
    """What a Task exposes to a poller: done(), result() (raises what the coroutine raised), cancel()."""

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._coro = coro
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        if not self._done:
            raise _NotDone("the task has not finished")
        if self._error is not None:
            raise self._error
        return self._result

    def cancel(self) -> bool:
        if self._done:
            return False
        self._coro.close()
        self._done = True
        self._error = RuntimeError("cancelled")
        return True

    def _step(self) -> None:
        try:
            self._coro.send(None)
        except StopIteration as stop:
            self._done, self._result = True, stop.value
        except BaseException as exc:  # noqa: BLE001 - a Task keeps what its coroutine raised
            self._done, self._error = True, exc


class next_frame:  # noqa: N801 - used like Kit's `await app.next_update_async()` [doc: KIT-IAPP]
    """Awaitable that yields exactly one frame."""

    def __await__(self) -> Any:
        yield


def run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> _Task:
    task = _Task(coroutine)
    _PENDING.append(task)
    return task


def standin_step() -> None:
    """One loop iteration (one app update): every pending coroutine runs to its next await."""
    for task in list(_PENDING):
        if not task.done():
            task._step()
        if task.done():
            _PENDING.remove(task)
