"""Shared fixtures: one real controller per test module, plus a factory for dedicated ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import FAST_ENV, ControllerProcess


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    """A `kitgate serve` per test module (generous rate limits), so modules never see each other's jobs."""
    ctl = ControllerProcess(tmp_path_factory.mktemp("controller"), env=FAST_ENV)
    yield ctl
    ctl.stop()


@pytest.fixture(scope="module")
def tokens(controller: ControllerProcess) -> dict[str, str]:
    """Tokens for this module's controller by role."""
    return {
        "admin": controller.admin_token,
        "operator": controller.mint_token("jobs:submit", "jobs:read"),
        "other": controller.mint_token("jobs:submit", "jobs:read"),
        "reader": controller.mint_token("jobs:read"),
        "worker": controller.mint_token("worker"),
    }


@pytest.fixture(scope="module")
def controller_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ControllerProcess]]:
    """Start dedicated controllers (own data dir and settings); all are stopped after the module."""
    started: list[ControllerProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "ctl") -> ControllerProcess:
        ctl = ControllerProcess(Path(tmp_path_factory.mktemp(name)), env={**FAST_ENV, **(env or {})})
        started.append(ctl)
        return ctl

    yield make
    for ctl in started:
        ctl.stop()
