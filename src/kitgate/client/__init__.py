"""kitgate's client side: the Python SDK, the agent tools (LangChain, MCP) and their formatting.

``from kitgate.client import KitgateClient`` is the usual entry point. LangChain and MCP are optional
extras and are imported only by ``kitgate.client.langchain_tools``/``agent`` and ``mcp_server``.
"""

from kitgate.client.errors import (
    AuthError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    ForbiddenError,
    KitgateError,
    NotFound,
    PolicyViolation,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    WaitTimeout,
)
from kitgate.client.sdk import AsyncKitgateClient, KitgateClient, RetryPolicy

__all__ = [
    "AsyncKitgateClient",
    "AuthError",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "ForbiddenError",
    "KitgateError",
    "KitgateClient",
    "NotFound",
    "PolicyViolation",
    "RateLimited",
    "ResponseTooLarge",
    "RetryPolicy",
    "ServerError",
    "WaitTimeout",
]
