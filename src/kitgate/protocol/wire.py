"""Identifiers and size caps that both sides of the wire check.

Why one place: the controller refuses a request whose field breaks one of these (pydantic, at the HTTP
edge), the worker refuses a claim that breaks one (stdlib `re`, inside Kit), and the client checks the
same rules before it sends anything. When they disagreed, a value one side accepted was garbage to the
other. Patterns are plain strings so pydantic's `pattern=` and `re.compile` both take them.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- identifiers
LABEL_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"  # a worker label / job label
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"  # an idempotency key
WORKER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"  # a worker id
ID_PATTERN = WORKER_ID_PATTERN  # job ids and claim ids as a worker accepts them from a claim response
POLICY_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

ID_RE = re.compile(ID_PATTERN)
POLICY_NAME_RE = re.compile(POLICY_NAME_PATTERN)

# ---------------------------------------------------------------- caps
MAX_CODE_CHARS = 1_000_000  # hard ceiling on a job's source; the policy's source_bytes is the real limit
MAX_LABELS = 16
MAX_STDOUT_CHARS = 4_000_000  # a result's stdout; what is cut is counted in stdout_truncated
MAX_CHANGED_PRIMS = 10_000  # paths listed in a result; changed_prims_total keeps the real count
MAX_VIOLATIONS = 1000
MAX_ERROR_TYPE_CHARS = 200
MAX_ERROR_MESSAGE_CHARS = 4000
MAX_LIMIT_CHARS = 64  # the name of the limit a job hit ("timeout", "memory", ...)
MAX_CLAIM_ID_CHARS = 128
MAX_POLICY_DIGEST_CHARS = 200
MAX_SIGNED_CLAIM_CHARS = 16_384  # the compact JWS a worker accepts (protocol.claims)

# ---------------------------------------------------------------- worker answer headers
# On claim answers (200/204) and report-and-claim answers: how many pending_approval jobs this worker could
# claim once approved. A count only (a worker credential may not read jobs), capped: CAP means "CAP or more".
APPROVALS_WAITING_HEADER = "X-Kitgate-Approvals-Waiting"
APPROVALS_WAITING_CAP = 1000
