"""kitgate.protocol: the wire contract every part of kitgate shares.

Why a package of its own: the controller, the worker (inside Kit), the client SDK and the sandbox all
speak the same JSON, and the rules of that JSON used to be copied into each of them. Here each rule is
written once: job statuses (`status`), identifiers and caps (`wire`), the two error shapes (`errors`),
the result normaliser (`results`), the token-file reader (`tokens`) and the signed claim a worker
verifies before anything runs (`claims`).

Dependencies: the standard library, and cryptography (Ed25519, imported by `claims` only). Never pydantic,
FastAPI, httpx or pxr: the worker imports this inside Kit, and `pip install kitgate` (the client) too.
"""

from kitgate.protocol.errors import error_body, error_code, error_info
from kitgate.protocol.status import NOT_STARTED, REPORTABLE_STATUSES, TERMINAL_STATUSES, JobStatus
from kitgate.protocol.tokens import TokenError, read_token_file, token_file_is_private
from kitgate.protocol.wire import (
    ID_PATTERN,
    KEY_PATTERN,
    LABEL_PATTERN,
    MAX_CHANGED_PRIMS,
    MAX_CODE_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_ERROR_TYPE_CHARS,
    MAX_LABELS,
    MAX_LIMIT_CHARS,
    MAX_SIGNED_CLAIM_CHARS,
    MAX_STDOUT_CHARS,
    MAX_VIOLATIONS,
    POLICY_NAME_PATTERN,
    WORKER_ID_PATTERN,
)

__all__ = [
    "ID_PATTERN",
    "KEY_PATTERN",
    "LABEL_PATTERN",
    "MAX_CHANGED_PRIMS",
    "MAX_CODE_CHARS",
    "MAX_ERROR_MESSAGE_CHARS",
    "MAX_ERROR_TYPE_CHARS",
    "MAX_LABELS",
    "MAX_LIMIT_CHARS",
    "MAX_SIGNED_CLAIM_CHARS",
    "MAX_STDOUT_CHARS",
    "MAX_VIOLATIONS",
    "NOT_STARTED",
    "POLICY_NAME_PATTERN",
    "REPORTABLE_STATUSES",
    "TERMINAL_STATUSES",
    "WORKER_ID_PATTERN",
    "JobStatus",
    "TokenError",
    "error_body",
    "error_code",
    "error_info",
    "read_token_file",
    "token_file_is_private",
]
