"""One dedicated controller and one headless worker for the client tests.

Dedicated (not the session controller) because a live worker would otherwise claim jobs that other
test packages hand out by hand.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import FAST_ENV, ControllerProcess
from worker_harness import WorkerProcess

from kitgate.client.sdk import KitgateClient


@dataclass
class Live:
    controller: ControllerProcess
    worker: WorkerProcess
    token: str  # jobs:submit + jobs:read
    reader_token: str  # jobs:read only
    token_file: Path
    reader_token_file: Path
    stage_path: Path

    @property
    def url(self) -> str:
        return self.controller.url

    @property
    def port(self) -> int:
        assert self.controller.port is not None
        return self.controller.port

    def client(self, token: str | None = None, url: str | None = None, **kw: Any) -> KitgateClient:
        return KitgateClient(url or self.url, token or self.token, **kw)

    def stage_has_prim(self, path: str) -> bool:
        """Read the worker's saved stage from disk (a fresh anonymous layer, no cache)."""
        from pxr import Sdf

        layer = Sdf.Layer.OpenAsAnonymous(str(self.stage_path))
        return bool(layer and layer.GetPrimAtPath(path))


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("client-live")
    ctl = ControllerProcess(base / "ctl", env=FAST_ENV)
    try:
        files = {}
        for name, scopes in (("agent", ("jobs:submit", "jobs:read")), ("reader", ("jobs:read",)),
                             ("worker", ("worker",))):
            f = base / f"{name}.token"
            f.write_text(ctl.mint_token(*scopes) + "\n")
            f.chmod(0o600)
            files[name] = f
        stage = base / "scene.usda"
        worker = WorkerProcess(ctl.url, files["worker"], stage, save=True)
        try:
            yield Live(ctl, worker, files["agent"].read_text().strip(), files["reader"].read_text().strip(),
                       files["agent"], files["reader"], stage)
        finally:
            worker.stop()
    finally:
        ctl.stop()


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
