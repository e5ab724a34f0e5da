"""Benign corpus: ordinary scene scripts, written the way agents and pipeline TDs write them, must run
under `scene-edit` and do exactly what plain Python does.

Each script in corpus/ runs twice on identical starting stages (see corpus_runner.py): plain ``exec``
and the real ``Executor`` (isolated: one fork server for the whole module, a fresh child per script).
Same printed output and same exported root layer, or the case fails with the refusal's rule and message.
No script is marked xfail: a false rejection is a bug to fix in the sandbox, not in the script.
`bench/benign_corpus.py` reports the success rate and the guarded/plain time ratio of the same corpus.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus_runner import BASE_USDA, CORPUS, corpus_files, install_assets, mismatch, run_guarded, run_plain

CORPUS_FILES = corpus_files()
MIN_CORPUS = 200


@pytest.fixture(scope="module")
def asset_root() -> Iterator[Path]:
    root = install_assets()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KITGATE_ASSET_ROOT", str(root))
        yield root


@pytest.fixture(scope="module")
def executor(asset_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kitgate.sandbox.executor import Executor

    with Executor(scratch_root=tmp_path_factory.mktemp("benign-scratch")) as ex:
        yield ex


@pytest.fixture(scope="module")
def policy(asset_root: Path) -> Any:
    from kitgate.sandbox.policy import load_policy

    pol = load_policy("scene-edit", asset_base=str(asset_root))
    assert any(Path(r) == asset_root.resolve() or asset_root.resolve().is_relative_to(r) for r in pol.asset_roots), (
        f"scene-edit asset roots {pol.asset_roots} do not cover {asset_root}"
    )
    return pol


def test_corpus_size_and_headers() -> None:
    assert len(CORPUS_FILES) >= MIN_CORPUS
    for p in CORPUS_FILES:
        assert p.read_text().startswith("# expect: accept\n"), p.name


def test_corpus_scripts_stay_on_the_job_stage() -> None:
    """The corpus must not need files: no new stages on disk, no saves, assets only from the asset root."""
    forbidden = re.compile(r"Usd\.Stage\.(CreateNew|Open)\b|\.Save\(|\.Export\(|\bopen\(")
    for p in CORPUS_FILES:
        text = p.read_text()
        assert not forbidden.search(text), p.name
        for asset in re.findall(r"[\"'](/[^\"']+\.usd[ac]?)[\"']", text):
            assert asset.startswith("/tmp/kitgate-benign-assets/"), (p.name, asset)


def test_policy_test_cli_accepts_all(asset_root: Path, tmp_path: Path) -> None:
    """`kitgate policy test` (what users put in CI) agrees: every benign file is accepted."""
    exe = Path(sys.executable).parent / "kitgate"
    base = tmp_path / "base.usda"
    base.write_text(BASE_USDA)  # the scene every benign script starts from, as in the plain/guarded runs
    proc = subprocess.run(
        [str(exe) if exe.exists() else "kitgate", "policy", "test", str(CORPUS), "--policy", "scene-edit",
         "--stage", str(base)],
        cwd=tmp_path, env={**os.environ, "KITGATE_ASSET_ROOT": str(asset_root)},
        capture_output=True, text=True, timeout=600,
    )
    failed = sorted(set(re.findall(r"^FAIL (\S+)", proc.stdout, re.M)))
    assert not failed, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(CORPUS_FILES)} files: {len(CORPUS_FILES)} passed" in proc.stdout


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_benign_script_same_as_plain(path: Path, executor: Any, policy: Any) -> None:
    source = path.read_text()
    plain = run_plain(source, str(path))
    guarded = run_guarded(executor, policy, source)
    reason = mismatch(plain, guarded)
    assert reason is None, f"{path.name}: {reason}"
