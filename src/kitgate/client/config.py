"""Where the SDK, CLI client commands and MCP server find the controller and their token.

KITGATE_URL, KITGATE_TOKEN or KITGATE_TOKEN_FILE. The token is a ``SecretStr`` so it never shows up
in a repr, a log line or a traceback; a token file is read once, by the one reader every part of
kitgate uses (kitgate.protocol.tokens).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kitgate.protocol.tokens import TokenError, read_token_file, token_file_is_private

__all__ = ["DEFAULT_URL", "ClientSettings", "TokenError", "read_token_file", "token_file_is_private"]

DEFAULT_URL = "http://127.0.0.1:8750"


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
