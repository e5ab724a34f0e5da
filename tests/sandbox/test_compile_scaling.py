"""Compile time grows linearly with script size: a ratio inside one run, never a time threshold.

Why: every submission is compiled before it is queued, and a pass that is quadratic in the script (a tree
walk per node, a regex per line over the whole text) is invisible at 1 KB and costs seconds at 64 KB.
The scripts are bench/compile_scaling.py's agent-like ones; each size is timed min-of-N with the cache
cleared, in this process's CPU time: on a busy machine a long compile is preempted more often than a short
one, which would inflate a wall-clock ratio. An 8x larger script must cost under 12x (a
linear compiler gives about 8x, a quadratic one about 64x).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

from kitgate.sandbox.compile import compiler
from kitgate.sandbox.policy import load_policy

BENCH = Path(__file__).resolve().parents[2] / "bench" / "compile_scaling.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kitgate_bench_compile_scaling", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _min_ms(source: str, runs: int) -> float:
    policy = load_policy("scene-edit")
    best = float("inf")
    for _ in range(runs):
        compiler.clear_cache()
        t0 = time.process_time()
        result = compiler.compile_source(source, policy)
        best = min(best, time.process_time() - t0)
        assert result.ok, result.violations[:3]
    return best * 1000


def test_compile_time_is_linear_in_script_size() -> None:
    bench = _bench()
    small, large = bench.agent_script(2 * 1024), bench.agent_script(16 * 1024)
    size_ratio = len(large) / len(small)
    assert 7.5 < size_ratio < 8.5
    _min_ms(bench.agent_script(2048, "warm"), 1)
    ratios = []
    for _ in range(4):  # rounds interleave the sizes, so a burst of load hits both; one clean round suffices
        ratios.append(_min_ms(large, 3) / _min_ms(small, 3))
        if ratios[-1] < 1.5 * size_ratio:
            break
    assert min(ratios) < 1.5 * size_ratio, ratios


def test_the_cache_still_answers_a_repeated_script_with_the_same_result() -> None:
    source = _bench().agent_script(3 * 1024)
    policy = load_policy("scene-edit")
    compiler.clear_cache()
    first = compiler.compile_source(source, policy)
    assert first.ok and first.code is not None
    assert compiler.compile_source(source, policy) is first
