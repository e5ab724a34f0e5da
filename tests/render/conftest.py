"""tests/render needs a headless OpenGL (Mesa EGL + llvmpipe): without one, every test here skips and says
what to install (`make gl`; .ci/run installs it). Under CI=true a missing OpenGL fails every test instead."""

from __future__ import annotations

import os

import pytest

from kitgate.render import RenderError


def _gl_missing() -> str:
    from kitgate.render.raster import create_context

    try:
        create_context().release()
    except RenderError as exc:
        return f"{exc.message}; {exc.hint}"
    return ""


_MISSING = _gl_missing()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not _MISSING:
        return
    if os.environ.get("CI", "").lower() == "true":
        return  # the autouse fixture below fails each test: CI must never skip the renderer
    skip = pytest.mark.skip(reason=f"no headless OpenGL: {_MISSING}")
    for item in items:
        if "tests/render/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _headless_gl_required() -> None:
    if _MISSING and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and no headless OpenGL: {_MISSING} (.ci/run and `make gl` install it)")
