"""The Kit window shows the current job's live output as plain text (omni.ui stand-in: Label.text, which
in Kit is drawn as text, never parsed as markup), next to the job, its state and the last results."""

from __future__ import annotations

from typing import Any

from kitgate.worker.config import Status


def test_window_shows_live_output_tail(kit_modules: dict[str, Any]) -> None:
    import omni.ui

    from kitgate.executor.ui import OUTPUT_LINES, StatusWindow

    toggles: list[int] = []
    window = StatusWindow(on_toggle=lambda: toggles.append(1))
    printed = "".join(f"line {i}\n" for i in range(20)) + "<b>not bold</b>"
    window.update(Status(phase="running", worker_id="w1", controller="http://c", current_job="j_1",
                         last_results=[("j_0", "succeeded")], last_error=None, outbox=0, paused_reason=None,
                         live_output=printed))
    texts = [w.text for w in omni.ui.WINDOWS[-1].widgets if isinstance(w, omni.ui.Label)]
    shown = next(t for t in texts if t.startswith("output: "))
    assert shown.endswith("<b>not bold</b>") and "line 19" in shown  # the newest lines, verbatim
    assert "line 0\n" not in shown and len(shown.splitlines()) == OUTPUT_LINES
    assert "current job: j_1" in texts and any("j_0 succeeded" in t for t in texts)
    window.update(Status(phase="idle", worker_id="w1", controller="http://c", current_job=None,
                         last_results=[], last_error=None, outbox=0, paused_reason="paused"))
    texts = [w.text for w in omni.ui.WINDOWS[-1].widgets if isinstance(w, omni.ui.Label)]
    assert "" in texts and not any(t.startswith("output: ") for t in texts)  # no stale output once it is gone
    assert any("paused" in t for t in texts)
    window.destroy()


def test_window_shows_approvals_waiting_and_where_to_approve(kit_modules: dict[str, Any]) -> None:
    import omni.ui

    from kitgate.executor.ui import StatusWindow

    window = StatusWindow(on_toggle=lambda: None)

    def shown(waiting: int | None) -> list[str]:
        window.update(Status(phase="idle", worker_id="w1", controller="http://c:8080/", current_job=None,
                             last_results=[], last_error=None, outbox=0, paused_reason=None,
                             approvals_waiting=waiting))
        return [w.text for w in omni.ui.WINDOWS[-1].widgets if isinstance(w, omni.ui.Label)
                and w.text.startswith("Approvals waiting")]

    assert shown(None) == []  # an older controller never says: no line, not a made-up zero
    assert shown(3) == ["Approvals waiting: 3 (approve in the console: http://c:8080/console/approvals)"]
    assert shown(1000) == ["Approvals waiting: 1000+ (approve in the console: http://c:8080/console/approvals)"]
    assert shown(0) == ["Approvals waiting: 0"]
    window.destroy()
