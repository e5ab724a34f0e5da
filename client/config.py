"""Where the SDK, CLI client commands and MCP server find the controller and their token.

KITGATE_URL, KITGATE_TOKEN or KITGATE_TOKEN_FILE. The token is a ``SecretStr`` so it never shows up
in a repr, a log line or a traceback; a token file is read once and size-checked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_URL = "http://127.0.0.1:8750"
MAX_TOKEN_BYTES = 16 * 1024


class TokenError(ValueError):
    """The token could not be loaded; the message never contains the token itself."""


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KITGATE_", extra="ignore")

    url: str = DEFAULT_URL
    token: SecretStr | None = None
    token_file: Path | None = None
    timeout_s: float = Field(30.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("KITGATE_URL must start with http:// or https://")
        return value

    def resolve_token(self) -> str | None:
        """KITGATE_TOKEN wins over KITGATE_TOKEN_FILE; None when neither is set."""
        if self.token is not None and self.token.get_secret_value().strip():
            return self.token.get_secret_value().strip()
        if self.token_file is not None:
            return read_token_file(self.token_file)
        return None


def read_token_file(path: Path | str) -> str:
    """Read a token file: bounded size, one line, no content echoed in errors."""
    path = Path(path).expanduser()
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise TokenError(f"token file {path} is not a regular file")
        if st.st_size > MAX_TOKEN_BYTES:
            raise TokenError(f"token file {path} is larger than {MAX_TOKEN_BYTES} bytes")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise TokenError(f"token file {path} cannot be read: {exc.strerror}") from None
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise TokenError(f"token file {path} is not ASCII text") from None
    if not token or any(c.isspace() for c in token):
        raise TokenError(f"token file {path} must contain exactly one token")
    return token


def token_file_is_private(path: Path | str) -> bool:
    """True when group/other cannot read the file (we warn, not refuse: CI secrets mounts vary)."""
    try:
        return os.stat(path).st_mode & 0o077 == 0
    except OSError:
        return False
