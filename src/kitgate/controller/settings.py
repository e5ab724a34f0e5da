"""Controller configuration: one pydantic-settings model, read from KITGATE_* and an optional TOML file."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

_RATE_HELP = "a limits expression such as '600/minute'"


def _check_rate(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"{value!r} is not {_RATE_HELP}") from None
    return value


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "kitgate"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads KITGATE_CONFIG (a TOML file) below the environment in precedence."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = os.environ.get("KITGATE_CONFIG")
        self._data: dict[str, Any] = {}
        if path:
            try:
                with open(path, "rb") as fh:
                    raw = tomllib.load(fh)
            except OSError as exc:
                raise ValueError(f"KITGATE_CONFIG={path!r} cannot be read: {exc.strerror}") from None
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"KITGATE_CONFIG={path!r} is not valid TOML: {exc}") from None
            self._data = raw.get("kitgate", raw)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Every knob of the controller. Secrets are never part of repr or /healthz."""

    model_config = SettingsConfigDict(env_prefix="KITGATE_", extra="ignore", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(8750, ge=0, le=65535)
    data_dir: Path = Field(default_factory=_default_data_dir)
    policy_dir: Path | None = None
    default_policy: str = "scene-edit"
    # what a policy's relative asset_roots resolve against (KITGATE_ASSET_ROOT); unset: relative roots are dropped
    asset_root: Path | None = None
    # the shared system of record for several replicas (docs/deploy.md); unset: the data dir's SQLite file
    database_url: str | None = Field(None, repr=False)  # may carry a password: never printed
    database_pool_max: int = Field(20, ge=2, le=500)  # connections per replica (one more for LISTEN)
    # the signing keys, shared read-only by every replica; unset: <data_dir>/keys. Never stored in the database.
    keys_dir: Path | None = None  # always set after validation (see _keys_dir)

    # request and queue limits
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    # one job's picture (render): a worker's report carries it base64-encoded (4/3 larger) within max_body_bytes
    max_image_bytes: int = Field(524_288, ge=1024, le=655_360)  # le: kitgate.protocol.render.MAX_IMAGE_BYTES
    max_header_bytes: int = Field(16_384, ge=1024, le=65_536)
    max_headers: int = Field(100, ge=10, le=1000)
    header_timeout_s: float = Field(10.0, gt=0, le=300)  # to send a complete request head (slowloris)
    body_timeout_s: float = Field(30.0, gt=0, le=600)  # to send the body, once the head is complete
    max_connections: int = Field(512, ge=8, le=100_000)  # open at once; more get a 503 envelope
    max_connections_per_ip: int = Field(64, ge=1, le=100_000)  # from one address (not trusted proxies)
    # JSON bodies: nesting and container count, measured before parsing (pydantic serialises ~250 levels)
    max_json_depth: int = Field(100, ge=8, le=200)
    max_json_containers: int = Field(100_000, ge=100, le=10_000_000)
    max_wait_s: float = Field(60.0, gt=0, le=600)
    execute_default_wait_s: float = Field(30.0, gt=0, le=600)
    claim_max_wait_s: float = Field(30.0, gt=0, le=600)
    heartbeat_timeout_s: float = Field(30.0, gt=0, le=3600)
    lost_check_interval_s: float = Field(1.0, gt=0, le=60)
    default_max_retries: int = Field(2, ge=0, le=10)
    # finished jobs (and their pictures) are deleted this long after they finished; 0 keeps them forever.
    # Audit records are never deleted. A deleted job's idempotency key can be used again.
    job_retention_days: float = Field(30.0, ge=0, le=36_500)
    envelope_ttl_s: int = Field(300, ge=5, le=86400)
    max_labels: int = Field(16, ge=0, le=256)
    list_limit_max: int = Field(500, ge=1, le=10_000)

    # live events (GET /v1/events): replay window, per-watcher buffer, streams per credential, keep-alive
    event_retention: int = Field(4096, ge=16, le=1_000_000)
    event_queue: int = Field(512, ge=8, le=100_000)  # a watcher this far behind is cut off with a `gap`
    event_streams_per_credential: int = Field(4, ge=1, le=1000)
    event_heartbeat_s: float = Field(15.0, gt=0, le=300)

    # identity
    token_issuer: str = "kitgate"
    token_audience: str = "kitgate-api"
    default_token_ttl_s: int = Field(30 * 86400, ge=60)
    allow_cidrs: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    store_code_in_audit: bool = False
    metrics_allow_loopback: bool = True

    # optional TLS (uvicorn's own): both or neither
    tls_cert: Path | None = None
    tls_key: Path | None = None

    # rate limits (security/ratelimit.py: in process for memory://, shared windows on Redis)
    rate_submit: str = Field("600/minute", description=_RATE_HELP)
    rate_read: str = Field("1200/minute", description=_RATE_HELP)
    rate_worker: str = Field("6000/minute", description=_RATE_HELP)
    rate_anon: str = Field("60/minute", description=_RATE_HELP)
    rate_ip: str = Field("", description="per client IP over all authenticated calls; empty: no per-IP ceiling")
    rate_storage: str = "memory://"
    rate_key_prefix: str = Field("kitgate", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    rate_limits_enabled: bool = True
    # Redis (rate_storage=redis://…): socket connect and read timeout per call; after a failure, each replica
    # answers from its own memory window and retries Redis at most once per rate_redis_retry_s
    rate_redis_timeout_s: float = Field(0.1, gt=0, le=10)
    rate_redis_retry_s: float = Field(5.0, gt=0, le=3600)

    log_level: str = "info"
    log_json: bool = True

    # the web console at /console (docs/console.md)
    console_enabled: bool = True
    console_cookie_name: str = Field("kitgate_console", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # the cookie's Secure flag; unset: on when the controller serves TLS itself (set true behind a TLS proxy)
    console_cookie_secure: bool | None = None
    console_session_ttl_s: int = Field(8 * 3600, ge=60, le=30 * 86400)  # never past the credential's expiry
    console_max_sessions: int = Field(1000, ge=1, le=100_000)
    console_rate_signin: str = Field("10/minute", description=_RATE_HELP)  # sign-in attempts per client IP

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @field_validator("allow_cidrs", "trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP network (expected CIDR such as 10.0.0.0/8)") from None
        return value

    @field_validator("rate_submit", "rate_read", "rate_worker", "rate_anon", "console_rate_signin")
    @classmethod
    def _rate(cls, value: str) -> str:
        return _check_rate(value)

    @field_validator("rate_ip")
    @classmethod
    def _optional_rate(cls, value: str) -> str:
        return _check_rate(value) if value.strip() else ""

    @field_validator("rate_storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
            raise ValueError("rate_storage must be memory:// or a redis:// URI")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.lower()
        if value not in {"debug", "info", "warning", "error"}:
            raise ValueError("log_level must be one of debug, info, warning, error")
        return value

    @model_validator(mode="after")
    def _keys_dir(self) -> Settings:
        """KITGATE_KEYS_DIR, else <data_dir>/keys: after validation `keys_dir` is never None."""
        if self.keys_dir is None:
            self.keys_dir = self.data_dir / "keys"
        return self

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key (KITGATE_TLS_CERT, KITGATE_TLS_KEY): give both or neither")
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url (KITGATE_DATABASE_URL) must be a postgresql:// URL; unset it for SQLite")
        return value.strip()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kitgate.sqlite3"

