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
from kitgate.protocol.render import CAMERA_PATH_PATTERN, png_size
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
SideArg = Annotated[int, Field(description="Picture width/height in pixels (the policy caps it; 512 is plenty).",
                               ge=16, le=2048)]
CameraArg = Annotated[
    str | None,
    Field(description="Prim path of a UsdGeom.Camera to look through; omit to frame the whole scene.",
          pattern=CAMERA_PATH_PATTERN, max_length=1024),
]
JobIdArg = Annotated[
    str | None,
    Field(description="Fetch the picture an earlier job asked for, instead of taking a new one.",
          pattern=r"^[A-Za-z0-9_-]{1,64}$"),
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
    "kit_screenshot": (
        "Look at the USD stage: returns a PNG picture of the scene (from a camera prim, or framing the whole "
        "scene) plus a short summary, so you can check your edits. Read-only. With job_id, returns the "
        "picture an earlier job asked for instead."
    ),
}


class ToolText(str):
    """The tool's text plus ``ok``: False when nothing useful happened (MCP marks it ``isError``)."""

    ok: bool

    def __new__(cls, text: str, ok: bool = True) -> ToolText:
        obj = super().__new__(cls, text)
        obj.ok = ok
        return obj


class ToolPicture(ToolText):
    """A tool answer that carries a PNG besides its text (MCP: ImageContent; LangChain: an image block)."""

    png: bytes | None

    def __new__(cls, text: str, png: bytes | None, ok: bool = True) -> ToolPicture:
        obj = super().__new__(cls, text, ok)
        obj.png = png
        return obj


_LIVE_LINE_CHARS = 4000  # one progress line of live output (the result carries all of it)


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
        self._report_lock = threading.Lock()
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
        with self._report_lock:  # the tool's thread and its live-output follower
            for sink in (self.on_progress, _progress_sink.get()):
                if sink is not None:
                    with contextlib.suppress(Exception):  # a broken progress channel must not fail the job
                        sink(line)

    def _on_update(self, followers: list[threading.Thread] | None = None,
                   ) -> Callable[[JobView, JobProgress | None], None]:
        last: list[str] = []

        def update(job: JobView, progress: JobProgress | None) -> None:
            line = f"job {job.id}: {describe_progress(job, progress)}"
            if not last or line.split(" for ")[0] != last[-1].split(" for ")[0]:
                self._report(line)
            last[:] = [line]
            if followers is not None and not followers:
                followers.append(self._follow_output(job.id))

        return update

    def _follow_output(self, job_id: str) -> threading.Thread:
        """Report what the job prints while it runs (GET /v1/events): `job <id> output: <text>` progress lines.

        Best effort on a thread of its own (in this call's context, so the same progress sink): a token
        without jobs:read or an older controller shows none; the tool's result has the whole output."""
        ctx = contextvars.copy_context()

        def follow() -> None:
            with contextlib.suppress(KitgateError, OSError, RuntimeError):
                for ev in self.client.events(job_id, timeout_s=self.timeout_s + 5.0):
                    if ev.type == "output" and ev.text:
                        self._report(f"job {job_id} output: {ev.text[:_LIVE_LINE_CHARS]}")

        thread = threading.Thread(target=ctx.run, args=(follow,), daemon=True, name="kitgate-tool-output")
        thread.start()
        return thread

    def _run_job(self, code: str, policy: str | None, labels: list[str] | None,
                 render: dict[str, Any] | None = None) -> JobView | ToolText:
        """Submit and wait, reporting progress (and live output); a wait that times out cancels a job that
        has not started."""
        client = self.client
        followers: list[threading.Thread] = []
        try:
            job = client.execute(code, policy=policy, timeout_s=self.timeout_s, labels=labels or self.labels,
                                 on_update=self._on_update(followers), render=render)
            for thread in followers:
                thread.join(2.0)  # the last chunks precede `finished`: report them before the result
            return job
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

    def kit_screenshot(self, width: SideArg = 512, height: SideArg = 512, camera: CameraArg = None,
                       job_id: JobIdArg = None, labels: LabelsArg = None) -> str:
        def run() -> ToolText:
            if job_id:
                png = self.client.image(job_id)
                return self._picture(f"picture of job {job_id}", png)
            ask = {"width": width, "height": height, "camera": camera}
            job = self._run_job(scene_scripts.scene_summary_script(), scene_scripts.SCENE_POLICY, labels, ask)
            if isinstance(job, ToolText):
                return job
            summary = format_scene(job)
            picture = job.result.render if job.result is not None else None
            if picture is None or not picture.ok:
                why = picture.error if picture is not None and picture.error is not None else None
                reason = f"{why.code}: {why.message}" + (f" (hint: {why.hint})" if why.hint else "") if why else \
                    "the job returned no picture"
                return ToolText(f"no picture: {reason}\n{summary}", ok=False)
            return self._picture(f"picture of the stage (job {job.id})\n{summary}", self.client.image(job.id))

        return self._guard(run)

    @staticmethod
    def _picture(text: str, png: bytes) -> ToolPicture:
        size = png_size(png) or (0, 0)
        return ToolPicture(f"{text}\nimage/png {size[0]}x{size[1]}, {len(png):,} bytes", png)

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
            for name in ("kit_execute", "kit_validate", "kit_scene_summary", "kit_list_prims", "kit_get_prim",
                         "kit_screenshot")
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
