"""Optional omni.ui status window: connection state, current job and its live output, last results,
approvals waiting for this worker (a count, with where to approve them), pause/resume.

Main thread only: the extension calls `update()` from its update callback with a
`Runner.status()` snapshot; the network thread never touches widgets. `destroy()` is called from
on_shutdown, otherwise the window survives hot reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import omni.ui as ui

from kitgate.protocol.wire import APPROVALS_WAITING_CAP

OUTPUT_LINES = 6  # the window shows the last lines the current (or last) job printed
OUTPUT_CHARS = 600


def approvals_line(status: Any) -> str:
    """'Approvals waiting: N (approve in the console: <controller>/console/approvals)'; '' until the controller
    has said (an older one never does). N at the cap means that many or more."""
    waiting = getattr(status, "approvals_waiting", None)
    if waiting is None:
        return ""
    shown = f"{APPROVALS_WAITING_CAP}+" if waiting >= APPROVALS_WAITING_CAP else str(waiting)
    if waiting == 0:
        return "Approvals waiting: 0"
    return f"Approvals waiting: {shown} (approve in the console: {status.controller.rstrip('/')}/console/approvals)"


class StatusWindow:
    def __init__(self, on_toggle: Callable[[], None]) -> None:
        self._window = ui.Window("kitgate executor", width=360, height=220, visible=True)
        with self._window.frame, ui.VStack():
            self._state = ui.Label("state: starting")
            self._worker = ui.Label("worker: -")
            self._job = ui.Label("current job: -")
            self._output = ui.Label("", word_wrap=True)  # what the job prints, as it runs (shown as text)
            self._results = ui.Label("last results: -")
            self._approvals = ui.Label("")  # a count only: the worker may not read other callers' jobs
            self._error = ui.Label("")
            self._button = ui.Button("Pause / resume", clicked_fn=on_toggle)

    def update(self, status: Any) -> None:
        state = status.phase + (f" ({status.paused_reason})" if status.paused_reason else "")
        self._state.text = f"state: {state}; outbox: {status.outbox}"
        self._worker.text = f"worker: {status.worker_id} -> {status.controller}"
        self._job.text = f"current job: {status.current_job or '-'}"
        tail = getattr(status, "live_output", "")
        self._output.text = "output: " + "\n".join(tail.splitlines()[-OUTPUT_LINES:])[-OUTPUT_CHARS:] if tail else ""
        shown = ", ".join(f"{job[:8]} {result}" for job, result in status.last_results[:5])
        self._results.text = f"last results: {shown or '-'}"
        self._approvals.text = approvals_line(status)
        self._error.text = f"last error: {status.last_error}" if status.last_error else ""

    def destroy(self) -> None:
        self._window.destroy()
        self._window = None
