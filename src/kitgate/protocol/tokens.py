"""The one reader for token files: the CLI, the SDK, the MCP server, the headless worker and the Kit
extension all load their bearer token through `read_token_file`.

Why one reader: there were three, with different rules (one decoded UTF-8 with replacement, one allowed
several tokens in the file, one read the whole file whatever its size), so the same file worked for one
command and not for another. The rules, for every caller:

- the path is followed (Kubernetes and Docker mount secrets as symlinks) and must end at a regular file;
- at most `MAX_TOKEN_BYTES` bytes; ASCII only;
- surrounding whitespace is stripped (a trailing newline from `echo` or `kitgate tokens create > f`);
- exactly one token: empty files and files with inner whitespace are refused;
- a file that other users may write is refused: anyone could put their own token there and make this
  process act under another identity;
- a file that group or others may read is allowed (CI and secret mounts are often 0644), and
  `token_file_is_private` lets the caller warn about it.

Errors name the file and the rule, never the file's content (it may be a secret written to the wrong place).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_TOKEN_BYTES = 16 * 1024


class TokenError(ValueError):
    """The token could not be loaded; the message never contains the token itself."""


def read_token_file(path: Path | str) -> str:
    """Return the one token held in PATH, or raise TokenError saying which rule the file breaks."""
    path = Path(path).expanduser()
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # before open(): opening a FIFO would block
            raise TokenError(f"token file {path} is not a regular file")
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())  # the file actually opened, not whatever the path names now
            if not stat.S_ISREG(st.st_mode):
                raise TokenError(f"token file {path} is not a regular file")
            if st.st_size > MAX_TOKEN_BYTES:
                raise TokenError(f"token file {path} is larger than {MAX_TOKEN_BYTES} bytes")
            raw = fh.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise TokenError(f"token file {path} cannot be read: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > MAX_TOKEN_BYTES:  # grew between fstat and read
        raise TokenError(f"token file {path} is larger than {MAX_TOKEN_BYTES} bytes")
    if st.st_mode & stat.S_IWOTH:
        raise TokenError(f"token file {path} is writable by other users; `chmod 600 {path}` it")
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise TokenError(f"token file {path} is not ASCII text") from None
    if not token:
        raise TokenError(f"token file {path} is empty; write the token from `kitgate tokens create` into it")
    if any(c.isspace() for c in token):
        raise TokenError(f"token file {path} must contain exactly one token (one line, no spaces)")
    return token


def token_file_is_private(path: Path | str) -> bool:
    """True when neither group nor others can read or write the file (callers warn when it is not)."""
    try:
        return os.stat(Path(path).expanduser()).st_mode & 0o077 == 0
    except OSError:
        return False
