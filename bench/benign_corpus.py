"""Benign-corpus benchmark: how much ordinary scene code the sandbox runs, and what the guards cost it.

A sandbox that refuses everyday scripts pushes users to `trusted` or to a bare `exec`, so the first
number is the success rate over tests/benign/corpus under a policy (default `scene-edit`): a script
counts only if it succeeded AND built the same root layer AND printed the same output as plain Python
(the rules of tests/benign/corpus_runner.py, which tests/benign/test_benign.py also uses).

The second is the time ratio against plain `exec` on the same starting stage, over the scripts that
matched, two ways:
- guarded run: the child's `run_ms` (the script under the guards, inside the isolated child: guard
  set-up per job, the guarded run, change recording);
- run_guarded in this process: the same compiled script through `run_guarded` on a fresh stage in
  the benchmark's own process, without fork or delta: the cost of the guards alone;
- whole job: `Executor.run` wall time (compile-cache hit, fork-server round trip, delta apply), what
  a caller waits for.
Each is given as the median of the per-script ratios and as total guarded time / total plain time.
Times are the median of --rounds runs per script after one untimed warm-up round (which also
decides success). One Executor (one fork server) serves the whole corpus.

Run: .venv/bin/python bench/benign_corpus.py [--rounds 3] [--policy scene-edit] [--failures FILE]
`--failures FILE` writes one line per failing script: name, status / error type, rule and message.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "benign"))

import corpus_runner  # noqa: E402 - the shared comparison rules live next to the corpus


@dataclass
class ScriptResult:
    name: str
    reason: str | None = None
    plain_ms: list[float] = field(default_factory=list)
    guarded_run_ms: list[float] = field(default_factory=list)
    job_ms: list[float] = field(default_factory=list)
    inproc_ms: list[float] = field(default_factory=list)


def _run_in_process(source: str, policy: object) -> float | None:
    """`run_guarded` on a fresh stage in this process (no fork, no delta): ms, or None if it did not succeed."""
    from kitgate.sandbox.compile.compiler import compile_source
    from kitgate.sandbox.runtime.hooks import run_guarded

    compiled = compile_source(source, policy)
    if not compiled.ok:
        return None
    report = run_guarded(compiled, policy, corpus_runner.fresh_stage())
    return report.run_ms if report.status == "succeeded" else None


def _measure(path: Path, executor: object, policy: object, rounds: int) -> ScriptResult:
    source = path.read_text()
    result = ScriptResult(path.name)
    plain = corpus_runner.run_plain(source, str(path))
    guarded = corpus_runner.run_guarded(executor, policy, source)
    result.reason = corpus_runner.mismatch(plain, guarded)
    if result.reason is not None:
        return result
    for _ in range(rounds):
        plain = corpus_runner.run_plain(source, str(path))
        stage = corpus_runner.fresh_stage()
        started = time.perf_counter()
        outcome = executor.run(source, policy, stage)  # type: ignore[attr-defined]
        job_ms = (time.perf_counter() - started) * 1000
        result.plain_ms.append(plain.seconds * 1000)
        result.job_ms.append(job_ms)
        result.guarded_run_ms.append(float(outcome.timings.get("child_run_ms") or outcome.timings["run_ms"]))
        inproc = _run_in_process(source, policy)
        if inproc is not None:
            result.inproc_ms.append(inproc)
    return result


def _total(results: list[ScriptResult], attr: str) -> float:
    return sum(statistics.median(getattr(r, attr)) for r in results)


def _ratios(results: list[ScriptResult], attr: str) -> tuple[float, float]:
    """(median of per-script ratios, total guarded / total plain) over the scripts that matched."""
    per_script = []
    total_plain = total_guarded = 0.0
    for r in results:
        plain = statistics.median(r.plain_ms)
        guarded = statistics.median(getattr(r, attr))
        per_script.append(guarded / max(plain, 1e-3))
        total_plain += plain
        total_guarded += guarded
    return statistics.median(per_script), total_guarded / max(total_plain, 1e-3)


def _write_failures(path: Path, failed: list[ScriptResult], policy_name: str, total: int) -> None:
    lines = [f"# benign corpus under {policy_name}: {len(failed)} of {total} scripts fail", ""]
    lines += [f"{r.name}\t{r.reason}" for r in failed]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per script after one warm-up (0: success only)")
    ap.add_argument("--policy", default="scene-edit")
    ap.add_argument("--only", default="*", help="glob on file names, e.g. 'mat_*'")
    ap.add_argument("--failures", type=Path, help="write the failing scripts with their reasons here")
    args = ap.parse_args(argv)

    root = corpus_runner.install_assets()
    os.environ["KITGATE_ASSET_ROOT"] = str(root)
    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy

    policy = load_policy(args.policy, asset_base=str(root))
    files = [p for p in corpus_runner.corpus_files() if fnmatch.fnmatch(p.name, args.only)]
    load0 = os.getloadavg()[0]
    started = time.perf_counter()
    with Executor() as executor:
        executor.start()
        results = [_measure(p, executor, policy, args.rounds) for p in files]
    wall = time.perf_counter() - started

    ok = [r for r in results if r.reason is None]
    failed = [r for r in results if r.reason is not None]
    print(f"benign corpus: {len(files)} scripts, policy {args.policy}, {args.rounds} timed rounds, "
          f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f}, wall {wall:.1f} s")
    print(f"success (same layer and output as plain exec): {len(ok)}/{len(files)} = "
          f"{100.0 * len(ok) / max(len(files), 1):.1f}%")
    for r in failed:
        print(f"  FAIL {r.name}: {r.reason[:300]}")
    if ok and args.rounds > 0:
        run_median, run_total = _ratios(ok, "guarded_run_ms")
        job_median, job_total = _ratios(ok, "job_ms")
        plain_total = _total(ok, "plain_ms")
        print(f"plain exec, sum of per-script medians over the {len(ok)} matching scripts: {plain_total:.1f} ms")
        print(f"guarded run / plain exec (guards only, in the child): median {run_median:.2f}x, "
              f"total {run_total:.2f}x ({_total(ok, 'guarded_run_ms'):.1f} ms)")
        inproc = [r for r in ok if len(r.inproc_ms) == len(r.plain_ms)]
        if inproc:
            in_median, in_total = _ratios(inproc, "inproc_ms")
            print(f"run_guarded in this process / plain exec (guards only, no child; {len(inproc)} scripts): "
                  f"median {in_median:.2f}x, total {in_total:.2f}x ({_total(inproc, 'inproc_ms'):.1f} ms)")
        print(f"whole isolated job / plain exec (compile hit + fork + run + delta): median {job_median:.2f}x, "
              f"total {job_total:.2f}x ({_total(ok, 'job_ms'):.1f} ms)")
    if args.failures:
        _write_failures(args.failures, failed, args.policy, len(files))
        print(f"failures written to {args.failures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
