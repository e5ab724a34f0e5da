"""LangChain tools (``pip install kitgate[langchain]``); langchain-core is imported only here.

    from kitgate.client.langchain_tools import kit_tools
    tools = kit_tools(KitgateClient())       # kit_execute, kit_validate, kit_scene_summary, ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitgate.client.sdk import KitgateClient
from kitgate.client.toolkit import KitToolkit

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool


def _require_langchain() -> Any:
    try:
        from langchain_core import tools
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("kitgate's LangChain tools need langchain-core: pip install 'kitgate[langchain]'") from exc
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
    toolkit = (
        client
        if isinstance(client, KitToolkit)
        else KitToolkit(client, default_policy=default_policy, timeout_s=timeout_s)
    )
    out: list[BaseTool] = []
    for spec in toolkit.specs():
        if include is not None and spec.name not in include:
            continue
        out.append(
            lc_tools.StructuredTool.from_function(
                func=spec.func,
                name=spec.name,
                description=spec.description,
                parse_docstring=False,
                handle_validation_error=_validation_text,
            )
        )
    return out
