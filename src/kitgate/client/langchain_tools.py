"""LangChain tools (``pip install kitgate[langchain]``); langchain-core is imported only here.

    from kitgate.client.langchain_tools import kit_tools
    tools = kit_tools(KitgateClient())       # kit_execute, kit_validate, kit_scene_summary, ...

kit_screenshot answers with `response_format="content_and_artifact"`: the ToolMessage content is a text block
and a LangChain image block (base64 PNG, which chat models with vision read), the artifact the PNG bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitgate.client.sdk import KitgateClient
from kitgate.client.toolkit import KitToolkit

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool


def _require_langchain() -> Any:
    try:
        from langchain_core import tools
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("kitgate's LangChain tools need the langchain extra: "
                          "pip install 'kitgate[langchain]'") from exc
    return tools


def _validation_text(exc: Exception) -> str:
    """Bad arguments become a message the model can fix (field + reason), not an exception."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'input'}: {e.get('msg', '')}" for e in errors()[:5]]
        return "error: invalid arguments: " + "; ".join(parts)
    return "error: invalid arguments"


def kit_tools(
    client: KitgateClient | KitToolkit | None = None,
    *,
    default_policy: str | None = None,
    timeout_s: float = 120.0,
    include: tuple[str, ...] | None = None,
) -> list[BaseTool]:
    """LangChain ``StructuredTool``s over one SDK client; ``include`` picks a subset by name."""
    lc_tools = _require_langchain()
    from langchain_core.tools import create_schema_from_function
    toolkit = (
        client
        if isinstance(client, KitToolkit)
        else KitToolkit(client, default_policy=default_policy, timeout_s=timeout_s)
    )
    out: list[BaseTool] = []
    for spec in toolkit.specs():
        if include is not None and spec.name not in include:
            continue
        pictures = spec.name == "kit_screenshot"
        func = _with_progress_events(toolkit, spec.func)
        out.append(
            lc_tools.StructuredTool.from_function(
                func=_as_content_and_artifact(func) if pictures else func,
                response_format="content_and_artifact" if pictures else "content",
                name=spec.name,
                description=spec.description,
                args_schema=create_schema_from_function(spec.name, spec.func, parse_docstring=False),
                parse_docstring=False,
                handle_validation_error=_validation_text,
            )
        )
    return out


def _as_content_and_artifact(func: Callable[..., str]) -> Callable[..., tuple[Any, bytes | None]]:
    """(content blocks, PNG bytes): a text block, plus an image block when the tool returned a picture."""
    from langchain_core.messages.content import create_image_block, create_text_block

    def call(callbacks: Any = None, **kwargs: Any) -> tuple[Any, bytes | None]:
        text = func(callbacks=callbacks, **kwargs)
        png = getattr(text, "png", None)
        blocks: list[Any] = [create_text_block(str(text))]
        if png:
            blocks.append(create_image_block(base64=base64.b64encode(png).decode("ascii"), mime_type="image/png"))
        return blocks, png

    call.__name__ = func.__name__
    return call


def _with_progress_events(toolkit: KitToolkit, func: Callable[..., str]) -> Callable[..., str]:
    """Progress lines (the job id at once, then queue/worker state) become the LangChain custom event
    ``kitgate_progress`` ({"line": ...}) of this tool run, seen by callback handlers and ``astream_events``."""
    from langchain_core.callbacks.manager import dispatch_custom_event

    def call(callbacks: Any = None, **kwargs: Any) -> str:
        # LangChain passes `callbacks` (this tool run's child manager) to a function that takes it
        def sink(line: str) -> None:
            if callbacks is not None:
                dispatch_custom_event("kitgate_progress", {"line": line}, config={"callbacks": callbacks})

        with toolkit.reporting(sink):
            return func(**kwargs)

    call.__name__ = func.__name__
    return call
