"""The `engine` fixture: each store contract test runs on SQLite and on a real PostgreSQL (support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kitgate.controller.security.keys import KeyRing

from .support import ENGINES, Engine


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    keys_dir = tmp_path / "keys"
    KeyRing(keys_dir).load(create=True)  # `kitgate init`: one key set, shared read-only by every replica
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    yield Engine(request.param, tmp_path, keys_dir, url)
