"""`kitgate run`, `kitgate validate`, `kitgate policy test`: the sandbox offline, exactly as a worker runs it.

Exit codes: 0 success / valid / every verdict matched; 1 job failed / violations / a mismatch;
2 usage errors (missing or oversized file, unknown policy, unreadable stage).

`policy test` verdicts (the `# expect:` header of each corpus file):
- accept: the job succeeded;
- reject-at-compile: the compiler refused it (status rejected, violations);
- reject-at-runtime: it compiled but a guard refused something while it ran (status failed, no limit,
  error is a security refusal such as SandboxDenied, AssetDenied, PermissionError, ImportError,
  UnsupportedEdit or DeltaRejected);
- limit: a resource limit stopped it (any `limit`, or timed_out).
Anything else (an ordinary exception, a crash of the job's process, a sandbox failure) is reported as
`error`/`crash` and never matches: a hostile corpus must be stopped by the sandbox, not by a typo.
A file that says `# stage: rooted` runs on a fresh stage file eight folders below the policy's first
asset root (in a scratch folder removed afterwards), where a tenant's shot would sit, instead of an
in-memory stage: relative asset paths only mean something next to a real file.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from kitgate.cli.extras import require

MAX_SCRIPT_BYTES = 2 * 1024 * 1024  # hard cap before the policy's own source_bytes check
MAX_STAGE_BYTES = 512 * 1024 * 1024
MAX_CORPUS_FILES = 5000
MAX_BASE_STAGE_BYTES = 16 * 1024 * 1024  # the --stage text of `policy test`
HEADER_LINES = 20
VERDICTS = ("accept", "reject-at-compile", "reject-at-runtime", "limit")
# The CLI's one reading of KITGATE_ASSET_ROOT (typer reads it); the sandbox never reads the environment.
AssetRoot = Annotated[
    Path | None,
    typer.Option("--asset-root", envvar="KITGATE_ASSET_ROOT",
                  help="what the policies' relative asset_roots resolve against (unset: they are dropped)"),
]
SECURITY_ERRORS = frozenset({
    "SandboxDenied", "AssetDenied", "PermissionError", "ImportError", "ModuleNotFoundError", "SecurityError",
    "PolicyViolation", "UnsupportedEdit", "DeltaRejected",
})
_EXPECT_RE = re.compile(r"^#\s*expect:\s*([a-z-]+)\s*$")
_POLICY_RE = re.compile(r"^#\s*policy:\s*([a-z0-9][a-z0-9_-]{0,63})\s*$")
DEFAULT_POLICY = "scene-edit"


class UsageError(Exception):
    """Exit 2: the command was given something it cannot use."""


def _read_script(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SCRIPT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SCRIPT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_SCRIPT_BYTES} bytes")
    return data


def _policy(name: str, policy_dir: Path | None, asset_root: Path | None) -> Any:
    from kitgate.sandbox.policy import PolicyError, load_policy

    try:
        return load_policy(name, policy_dir, asset_root)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None


def _open_stage(path: Path) -> Any:
    """Open PATH, or a new in-memory layer with PATH's identifier when it does not exist yet."""
    from pxr import Sdf, Usd

    path = path.resolve()
    if path.exists():
        if not path.is_file() or path.stat().st_size > MAX_STAGE_BYTES:
            raise UsageError(f"{path} is not a file of at most {MAX_STAGE_BYTES} bytes")
        try:
            stage = Usd.Stage.Open(str(path))
        except Exception as exc:  # Tf.ErrorException
            raise UsageError(f"cannot open stage {path}: {str(exc).strip()[:300]}") from None
        if stage is None:
            raise UsageError(f"cannot open stage {path}")
        return stage
    if not path.parent.is_dir():  # said now, not as a traceback from --save after the script ran
        raise UsageError(f"{path.parent} is not a folder; --stage must name a file in an existing folder"
                         if path.parent.exists() else
                         f"the folder {path.parent} for --stage does not exist; create it first "
                         f"(mkdir -p {path.parent}) or choose another path")
    fmt = Sdf.FileFormat.FindByExtension(path.suffix.lstrip(".") or "usda")
    if fmt is None:
        raise UsageError(f"{path}: unknown USD file extension")
    layer = Sdf.Layer.New(fmt, str(path))
    if layer is None:
        raise UsageError(f"cannot create stage {path}")
    return Usd.Stage.Open(layer)


def _save_atomically(stage: Any, path: Path) -> None:
    """The worker's own atomic save: readers never see half a stage, and the file keeps its mode."""
    from kitgate.worker.headless import save_layer_atomically

    save_layer_atomically(stage.GetRootLayer(), path.resolve())


def _result_dict(outcome: Any) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "stdout": outcome.stdout,
        "stdout_truncated": outcome.stdout_truncated,
        "result": outcome.value,
        "changes": list(outcome.changed_prims),
        "changes_total": outcome.changed_prims_total,
        "limit": outcome.limit,
        "error": outcome.error,
        "violations": [v.to_dict() if hasattr(v, "to_dict") else v for v in outcome.violations],
    }


def verdict_of(outcome: Any) -> str:
    """Map an outcome to a policy-test verdict (see the module docstring)."""
    if outcome.status == "succeeded":
        return "accept"
    if outcome.status == "rejected":
        return "reject-at-compile" if outcome.violations else "error"
    if outcome.limit or outcome.status == "timed_out":
        return "limit"
    kind = (outcome.error or {}).get("type") if isinstance(outcome.error, dict) else None
    if kind == "Crash":
        return "crash"
    if kind in SECURITY_ERRORS:
        return "reject-at-runtime"
    return "error"


def _parse_header(data: bytes) -> tuple[str | None, str | None]:
    expect = policy = None
    for line in data.decode("utf-8", "replace").splitlines()[:HEADER_LINES]:
        line = line.strip()
        if m := _EXPECT_RE.match(line):
            expect = m.group(1)
        elif m := _POLICY_RE.match(line):
            policy = m.group(1)
    return expect, policy


_ROOTED_RE = re.compile(r"^#\s*stage:\s*rooted\s*$")
_ROOTED_FOLDERS = ("t", "a", "b", "c", "d", "e", "f")  # below the scratch folder: eight below the root


def _job_stage(data: bytes, pol: Any, scratch: dict[str, Any], name: str, base: str = "") -> Any:
    """The stage a `policy test` file runs on: in memory (a fresh copy of `base`, the `--stage` file's
    text, when given), or a fresh file deep below the asset root."""
    from pxr import Usd

    if not any(_ROOTED_RE.match(line.strip()) for line in data.decode("utf-8", "replace").splitlines()[:HEADER_LINES]):
        stage = Usd.Stage.CreateInMemory()
        if base and not stage.GetRootLayer().ImportFromString(base):
            raise UsageError("--stage: the stage file could not be read as USD text")
        return stage
    if not pol.asset_roots:
        raise UsageError(f"'# stage: rooted' needs an asset root; policy {pol.name} has none (KITGATE_ASSET_ROOT)")
    root = pol.asset_roots[0]
    try:
        if root not in scratch:  # TemporaryDirectory also cleans up at exit if the run is interrupted
            scratch[root] = tempfile.TemporaryDirectory(prefix=".kitgate-policy-test-", dir=root)
        folder = Path(scratch[root].name).joinpath(*_ROOTED_FOLDERS)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.usda"
        path.write_text("#usda 1.0\n")
    except OSError as exc:
        raise UsageError(f"'# stage: rooted' needs a writable asset root ({root}): {exc.strerror or exc}") from None
    return Usd.Stage.Open(str(path))


def _module_aliases(tree: Any) -> dict[str, str]:
    """Names the script binds to modules: `from pxr import UsdGeom` -> {"UsdGeom": "pxr.UsdGeom"}."""
    import ast

    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def static_refusals(source: bytes, pol: Any) -> tuple[list[dict[str, Any]], int]:
    """What the runtime will refuse that can be decided from the text: `Module.Class.attr` chains rooted in
    an imported module, decided by the runtime's own per-type decision. Returns (refusals, number of other
    attribute uses whose object is only known at run time)."""
    import ast
    import importlib

    from kitgate.sandbox.runtime.hooks import _decide

    tree = ast.parse(source.decode("utf-8"))
    aliases = _module_aliases(tree)
    found: list[dict[str, Any]] = []
    dynamic = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        if not (isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id in aliases):
            if not (isinstance(base, ast.Name) and base.id in aliases):
                dynamic += 1
            continue
        module = aliases[base.value.id]
        try:
            owner = getattr(importlib.import_module(module), base.attr)
        except (ImportError, AttributeError):
            continue
        if not isinstance(owner, type):
            continue
        decision = _decide(pol, owner, node.attr, True)
        if type(decision) is tuple:
            found.append({"line": node.lineno, "col": node.col_offset, "rule": "runtime-refusal",
                          "message": decision[1], "hint": "This call is refused when the script runs."})
    return found, dynamic


def _fail(exc: UsageError) -> typer.Exit:
    typer.echo(f"kitgate: {exc}", err=True)
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="Policy tools.", no_args_is_help=True)
    app.add_typer(policy_app, name="policy")

    @app.command()
    def run(
        file: Annotated[Path, typer.Argument(help="the script to run")],
        stage: Annotated[Path, typer.Option("--stage", help="USD stage to run on (created in memory if missing)")],
        policy: Annotated[str, typer.Option(help="policy name")] = DEFAULT_POLICY,
        policy_dir: Annotated[Path | None, typer.Option(help="directory of policy TOML files")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
        save: Annotated[bool, typer.Option("--save", help="write the stage back atomically on success")] = False,
        timeout_s: Annotated[float | None, typer.Option(help="job timeout (at most the policy's)")] = None,
        asset_root: AssetRoot = None,
    ) -> None:
        """Run one script through exactly the sandbox a worker uses; exit 0 only when it succeeded."""
        require("worker", command="run")
        from kitgate.sandbox.executor import Executor

        try:
            pol = _policy(policy, policy_dir, asset_root)
            source = _read_script(file)
            usd_stage = _open_stage(stage)
        except UsageError as exc:
            raise _fail(exc) from None
        with Executor() as ex:
            outcome = ex.run(source, pol, usd_stage, timeout_s=timeout_s)
        saved = False
        if save and outcome.status == "succeeded":
            _save_atomically(usd_stage, stage)
            saved = True
        out = _result_dict(outcome)
        out["saved"] = saved
        if as_json:
            typer.echo(json.dumps(out, indent=2, default=str))
        else:
            typer.echo(f"status: {out['status']}" + (f" (limit: {out['limit']})" if out["limit"] else ""))
            if out["stdout"]:
                typer.echo("stdout:\n" + out["stdout"].rstrip("\n"))
            if out["result"] is not None:
                typer.echo("result: " + json.dumps(out["result"], default=str))
            if out["changes"]:
                typer.echo(f"changes ({out['changes_total']}): " + ", ".join(out["changes"]))
            if out["error"]:
                err = out["error"]
                where = f" (line {err['line']})" if err.get("line") else ""
                typer.echo(f"error: {err.get('type')}: {err.get('message')}{where}")
            for v in out["violations"]:
                typer.echo(f"{file}:{v['line']}:{v['col']} {v['rule']}: {v['message']} ({v['hint']})")
            if saved:
                typer.echo(f"saved: {stage}")
        raise typer.Exit(0 if outcome.status == "succeeded" else 1)

    @app.command()
    def validate(
        file: Annotated[Path, typer.Argument(help="the script to check")],
        policy: Annotated[str, typer.Option(help="policy name")] = DEFAULT_POLICY,
        policy_dir: Annotated[Path | None, typer.Option(help="directory of policy TOML files")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print diagnostics as JSON")] = False,
        asset_root: AssetRoot = None,
    ) -> None:
        """Compile-time verdict only: exit 0 valid, 1 violations, 2 usage error."""
        require("worker", command="validate")
        from kitgate.sandbox.compile.compiler import compile_source

        try:
            pol = _policy(policy, policy_dir, asset_root)
            source = _read_script(file)
        except UsageError as exc:
            raise _fail(exc) from None
        result = compile_source(source, pol)
        violations = [v.to_dict() for v in result.violations]
        dynamic = 0
        if result.ok:
            refusals, dynamic = static_refusals(source, pol)
            violations.extend(refusals)
        ok = not violations
        note = (f"{dynamic} attribute use(s) on values known only at run time are checked when the script runs"
                if dynamic else "")
        if as_json:
            typer.echo(json.dumps({"ok": ok, "policy": pol.name, "policy_digest": pol.digest,
                                   "code_sha256": result.code_sha256, "violations": violations,
                                   "checked_at_runtime": dynamic}, indent=2))
        elif ok:
            typer.echo(f"{file}: ok under policy {pol.name}" + (f" ({note})" if note else ""))
        else:
            for v in violations:
                typer.echo(f"{file}:{v['line']}:{v['col']} {v['rule']}: {v['message']} ({v['hint']})")
        raise typer.Exit(0 if ok else 1)

    @policy_app.command("test")
    def policy_test(
        directory: Annotated[Path, typer.Argument(help="directory of *.py files with '# expect:' headers")],
        policy: Annotated[str, typer.Option(help="policy for files without a '# policy:' header")] = DEFAULT_POLICY,
        policy_dir: Annotated[Path | None, typer.Option(help="directory of policy TOML files")] = None,
        asset_root: AssetRoot = None,
        stage: Annotated[Path | None, typer.Option(
            help="a .usda file every script starts from (a fresh copy each); default: an empty stage")] = None,
    ) -> None:
        """Run a corpus offline; each file's header states its expected verdict. Exit 1 on any mismatch."""
        require("worker", command="policy test")
        from kitgate.sandbox.executor import Executor

        base = ""
        if stage is not None:
            if not stage.is_file():
                raise _fail(UsageError(f"--stage {stage}: no such file"))
            if stage.stat().st_size > MAX_BASE_STAGE_BYTES:
                raise _fail(UsageError(f"--stage {stage}: larger than {MAX_BASE_STAGE_BYTES} bytes"))
            base = stage.read_text(encoding="utf-8", errors="replace")

        if not directory.is_dir():
            raise _fail(UsageError(f"{directory} is not a directory"))
        files = sorted(directory.glob("*.py"))
        if not files:
            raise _fail(UsageError(f"no *.py files in {directory}"))
        if len(files) > MAX_CORPUS_FILES:
            raise _fail(UsageError(f"more than {MAX_CORPUS_FILES} files in {directory}"))
        try:
            default_policy = _policy(policy, policy_dir, asset_root)
        except UsageError as exc:
            raise _fail(exc) from None
        passed = failed = 0
        rooted: dict[str, Any] = {}
        with Executor() as ex:
            for path in files:
                try:
                    source = _read_script(path)
                    expect, pname = _parse_header(source)
                    pol = _policy(pname, policy_dir, asset_root) if pname else default_policy
                    job_stage = _job_stage(source, pol, rooted, path.stem, base)
                except UsageError as exc:
                    typer.echo(f"FAIL {path.name}: {exc}")
                    failed += 1
                    continue
                if expect not in VERDICTS:
                    typer.echo(f"FAIL {path.name}: missing or unknown '# expect:' header ({'|'.join(VERDICTS)})")
                    failed += 1
                    continue
                outcome = ex.run(source, pol, job_stage)
                got = verdict_of(outcome)
                detail = outcome.limit or ((outcome.error or {}).get("type") if isinstance(outcome.error, dict) else "")
                if outcome.violations:
                    detail = ",".join(sorted({v["rule"] for v in outcome.violations}))
                ok = got == expect
                passed += ok
                failed += not ok
                typer.echo(f"{'PASS' if ok else 'FAIL'} {path.name} [{pol.name}] expect={expect} got={got}"
                           + (f" ({detail})" if detail else ""))
        for scratch in rooted.values():
            scratch.cleanup()
        typer.echo(f"{len(files)} files: {passed} passed, {failed} failed")
        raise typer.Exit(1 if failed else 0)
