"""The agent tools, once: plain functions that return compact text, shared by LangChain and MCP.

Every tool goes through the SDK, i.e. the public API with the caller's token; it can do only what
that token's scopes and policies allow. Failures come back as text the model can act on (never a
traceback, never the token), because a tool that raises usually ends an agent loop.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from kitgate.client import scene_scripts
from kitgate.client.config import TokenError
from kitgate.client.errors import KitgateError, WaitTimeout
from kitgate.client.models import JobProgress, JobView
from kitgate.client.results import describe_progress, format_error, format_job, format_validation
from kitgate.client.sdk import KitgateClient
from kitgate.protocol.status import JobStatus
from kitgate.protocol.wire import LABEL_PATTERN, MAX_CODE_CHARS, POLICY_NAME_PATTERN

CodeArg = Annotated[
    str,
    Field(description="Python source to run on the USD stage (the stage is the global `stage`).",
          min_length=1, max_length=MAX_CODE_CHARS),
]
PolicyArg = Annotated[
    str | None,
    Field(description="Policy name (readonly, scene-edit, trusted). Omit for the default.",
          pattern=POLICY_NAME_PATTERN),
]
PathArg = Annotated[
    str,
    Field(description="Absolute prim path such as '/World' or '/World/Cube'.",
          min_length=1, max_length=scene_scripts.MAX_PATH_CHARS),
]
DepthArg = Annotated[
    int,
    Field(description=f"Levels below the path to list (1 = direct children, max {scene_scripts.MAX_DEPTH}).",
          ge=1, le=scene_scripts.MAX_DEPTH),
]

LabelsArg = Annotated[
    list[Annotated[str, Field(pattern=LABEL_PATTERN)]] | None,
    Field(description="Worker labels the job needs (e.g. one stage or site); only a worker with all of them "
                      "answers. Omit to use the defaults this tool was configured with.", max_length=16),
]
# Where a tool call reports "job <id>: queued at position 1; 0 workers connected" while it waits: set per
# call by the MCP server / LangChain wrapper (each call runs in its own thread or context).
_progress_sink: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "kitgate_progress_sink", default=None
)
NOT_STARTED = (JobStatus.queued, JobStatus.pending_approval)

DESCRIPTIONS: dict[str, str] = {
    "kit_execute": (
        "Run Python on the Omniverse/USD stage through the kitgate sandbox. The stage is the global "
        "`stage`; import USD modules with `from pxr import Usd, UsdGeom, Gf, Sdf`. Assign `result = ...` "
        "to return data. Returns status, printed output, value and changed prims, or policy violations "
        "with line/col and a hint on what to write instead. A failed job leaves the stage unchanged."
    ),
    "kit_validate": (
        "Check Python against a kitgate policy without running it. Returns 'valid' or the violations "
        "with line, column, rule and a hint."
    ),
    "kit_scene_summary": (
        "Summarise the current USD stage: prim count, prim types, top-level prims, default prim, up axis, units."
    ),
    "kit_list_prims": "List prims under a path down to a depth, with their types (read-only).",
    "kit_get_prim": (
        "Inspect one prim: type, attributes with values, applied schemas, transforms and children (read-only)."
    ),
}


class ToolText(str):
    """The tool's text plus ``ok``: False when nothing useful happened (MCP marks it ``isError``)."""

    ok: bool

    def __new__(cls, text: str, ok: bool = True) -> ToolText:
        obj = super().__new__(cls, text)
        obj.ok = ok
        return obj


@dataclass
class ToolSpec:
    name: str
    description: str
    func: Callable[..., str]


class KitToolkit:
    """Holds one SDK client (created on first use, so a server can start before the controller)."""

    def __init__(
        self,
        client: KitgateClient | None = None,
        *,
        client_factory: Callable[[], KitgateClient] | None = None,
        default_policy: str | None = None,
        timeout_s: float = 120.0,
        labels: list[str] | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._factory = client_factory or KitgateClient
        self._lock = threading.Lock()
        self.default_policy = default_policy
        self.timeout_s = timeout_s
        self.labels = labels
        self.on_progress = on_progress  # every call's progress lines, besides the per-call sink

    @staticmethod
    @contextlib.contextmanager
    def reporting(sink: Callable[[str], None] | None) -> Iterator[None]:
        """Send this context's progress lines (job id at once, then queue/worker state) to ``sink``."""
        token = _progress_sink.set(sink)
        try:
            yield
        finally:
            _progress_sink.reset(token)

    def _report(self, line: str) -> None:
        for sink in (self.on_progress, _progress_sink.get()):
            if sink is not None:
                with contextlib.suppress(Exception):  # a broken progress channel must not fail the job
                    sink(line)

    def _on_update(self) -> Callable[[JobView, JobProgress | None], None]:
        last: list[str] = []

        def update(job: JobView, progress: JobProgress | None) -> None:
            line = f"job {job.id}: {describe_progress(job, progress)}"
            if not last or line.split(" for ")[0] != last[-1].split(" for ")[0]:
                self._report(line)
            last[:] = [line]

        return update

    def _run_job(self, code: str, policy: str | None, labels: list[str] | None) -> JobView | ToolText:
        """Submit and wait, reporting progress; a wait that times out cancels a job that has not started."""
        client = self.client
        try:
            return client.execute(code, policy=policy, timeout_s=self.timeout_s, labels=labels or self.labels,
                                  on_update=self._on_update())
        except WaitTimeout as exc:
            job = exc.job
            if job is None:
                raise
            where = describe_progress(job, exc.progress)
            if job.status in NOT_STARTED:
                with contextlib.suppress(KitgateError):
                    job = client.cancel(job.id)
                if job.status is JobStatus.cancelled:
                    return ToolText(
                        f"status: cancelled\njob: {job.id}\nnothing ran after {self.timeout_s:g} s ({where}); the job "
                        "was cancelled so it cannot run later, and the stage is unchanged", ok=False)
            return ToolText(
                f"status: {job.status.value}\njob: {job.id}\nstill {where} after {self.timeout_s:g} s; it was not "
                "stopped. Check its result later with the job id.", ok=False)

    @property
    def client(self) -> KitgateClient:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _guard(self, fn: Callable[[], ToolText]) -> ToolText:
        try:
            return fn()
        except scene_scripts.SceneArgError as exc:
            return ToolText(f"error: invalid argument: {exc}", ok=False)
        except TokenError as exc:
            return ToolText(f"error: kitgate client is not configured: {exc}", ok=False)
        except KitgateError as exc:
            return ToolText(format_error(exc), ok=False)
        except ValueError as exc:  # e.g. a malformed KITGATE_URL while building the client
            first = str(exc).splitlines()[0][:300]
            return ToolText(f"error: kitgate client is not configured: {first}", ok=False)

    # -- tools -----------------------------------------------------------------------------------
    def kit_execute(self, code: CodeArg, policy: PolicyArg = None, labels: LabelsArg = None) -> str:
        def run() -> ToolText:
            job = self._run_job(code, policy or self.default_policy, labels)
            if isinstance(job, ToolText):
                return job
            stage, note = self._answered_by(job, labels)
            return ToolText(format_job(job, stage=stage) + note, ok=job.status is JobStatus.succeeded)

        return self._guard(run)

    def kit_validate(self, code: CodeArg, policy: PolicyArg = None) -> str:
        return self._guard(
            lambda: ToolText(format_validation(self.client.validate(code, policy=policy or self.default_policy)))
        )

    def kit_scene_summary(self, labels: LabelsArg = None) -> str:
        return self._guard(lambda: self._scene(scene_scripts.scene_summary_script(), labels))

    def kit_list_prims(self, path: PathArg = "/", depth: DepthArg = 1, labels: LabelsArg = None) -> str:
        return self._guard(lambda: self._scene(scene_scripts.list_prims_script(path, depth), labels))

    def kit_get_prim(self, path: PathArg, labels: LabelsArg = None) -> str:
        return self._guard(lambda: self._scene(scene_scripts.get_prim_script(path), labels))

    def _scene(self, script: str, labels: list[str] | None) -> ToolText:
        job = self._run_job(script, scene_scripts.SCENE_POLICY, labels)
        if isinstance(job, ToolText):
            return job
        text = format_scene(job)
        if job.worker_id is None or not text.ok:
            return text
        stage, note = self._answered_by(job, labels)
        where = f"answered by worker {job.worker_id}" + (f" on stage {stage}" if stage else "")
        return ToolText(f"{text}\n{where}{note}", ok=text.ok)

    def _answered_by(self, job: JobView, labels: list[str] | None) -> tuple[str | None, str]:
        """The answering worker's stage, and a note when several connected workers with different stages
        could have taken this unlabelled job (its answer depends on which one did)."""
        if job.worker_id is None:
            return None, ""
        try:
            progress = self.client.progress(job.id)
        except KitgateError:
            return None, ""
        if progress is None:
            return None, ""
        note = ""
        stages = progress.stages_matching
        if not (labels or self.labels) and len(stages) > 1:
            note = (f"\nnote: {len(stages)} connected workers serve different stages ({', '.join(stages)}); any of "
                    "them could answer a call without labels, so answers may come from different stages. Pass "
                    "labels to choose one.")
        return progress.worker_stage, note

    def specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(name, DESCRIPTIONS[name], getattr(self, name))
            for name in ("kit_execute", "kit_validate", "kit_scene_summary", "kit_list_prims", "kit_get_prim")
        ]


def format_scene(job: JobView) -> ToolText:
    """A scene tool's answer is its JSON value; anything else is reported like a job."""
    if job.status is JobStatus.succeeded and job.result is not None and isinstance(job.result.value, dict):
        value: Any = job.result.value
        if "error" in value and len(value) == 1:
            return ToolText(f"error: {value['error']}", ok=False)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
        if len(text) > 8000:
            text = text[:8000] + f" … [truncated: {len(text) - 8000} more characters]"
        return ToolText(text)
    return ToolText(format_job(job), ok=False)
