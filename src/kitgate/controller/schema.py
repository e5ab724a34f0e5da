"""The OpenAPI schema as a stable, diff-friendly document (shared_schema.json at the repo root)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any


def openapi_schema() -> dict[str, Any]:
    """Build a throw-away app on a temp data dir; nothing is started, nothing is written elsewhere."""
    from kitgate.controller.app import create_app
    from kitgate.controller.settings import Settings

    with tempfile.TemporaryDirectory(prefix="kitgate-schema-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp)))
        return app.openapi()


def render_schema() -> str:
    return json.dumps(openapi_schema(), indent=2, sort_keys=True) + "\n"
