"""Envelope -> typed exception mapping, and token handling that never leaks the token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kitgate.client.config import ClientSettings, TokenError, read_token_file
from kitgate.client.errors import (
    AuthError,
    BadRequest,
    Conflict,
    ForbiddenError,
    NotFound,
    PolicyViolation,
    RateLimited,
    ServerError,
    error_from_response,
    parse_retry_after,
)
from kitgate.client.sdk import KitgateClient


def _env(code: str, **details: object) -> dict:
    return {"error": {"code": code, "message": f"{code} happened", "details": details, "request_id": "rid-1"}}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "unauthorized", AuthError),
        (403, "forbidden", ForbiddenError),
        (404, "not_found", NotFound),
        (409, "already_reported", Conflict),
        (429, "rate_limited", RateLimited),
        (413, "payload_too_large", BadRequest),
        (422, "validation_error", BadRequest),
        (500, "internal_error", ServerError),
        (503, "unavailable", ServerError),
    ],
)
def test_status_maps_to_class(status: int, code: str, cls: type) -> None:
    err = error_from_response(status, _env(code), {"Retry-After": "2"})
    assert type(err) is cls
    assert err.code == code and err.request_id == "rid-1" and err.status == status
    if cls is RateLimited:
        assert err.retry_after == 2.0


def test_policy_violation_carries_violations() -> None:
    v = {"line": 3, "col": 1, "rule": "name", "message": "eval is not available", "hint": "compute directly"}
    err = error_from_response(422, _env("policy_violation", violations=[v, {"junk": 1}]))
    assert isinstance(err, PolicyViolation)
    assert [x.line for x in err.violations] == [3]  # malformed entries dropped, not fatal


def test_non_envelope_body_is_tolerated() -> None:
    err = error_from_response(502, None, {"x-request-id": "r2"})
    assert isinstance(err, ServerError) and err.request_id == "r2" and err.code == "http_502"


@pytest.mark.parametrize(("raw", "want"), [("3", 3.0), ("0.5", 0.5), (None, None), ("soon", None), ("-1", None),
                                          ("nan", None)])
def test_retry_after(raw: str | None, want: float | None) -> None:
    assert parse_retry_after(raw) == want


def test_token_file_rules(tmp_path: Path) -> None:
    good = tmp_path / "t"
    good.write_text("abc.def.ghi\n")
    assert read_token_file(good) == "abc.def.ghi"
    two = tmp_path / "two"
    two.write_text("secret-one secret-two")
    with pytest.raises(TokenError) as ei:
        read_token_file(two)
    assert "secret" not in str(ei.value)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 20000)
    with pytest.raises(TokenError, match="larger than"):
        read_token_file(big)
    with pytest.raises(TokenError, match="cannot be read"):
        read_token_file(tmp_path / "missing")
    with pytest.raises(TokenError, match="not a regular file"):
        read_token_file(tmp_path)


def test_env_token_wins_and_is_never_in_repr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    f = tmp_path / "tok"
    f.write_text("from-file-token")
    monkeypatch.setenv("KITGATE_TOKEN_FILE", os.fspath(f))
    monkeypatch.setenv("KITGATE_URL", "http://127.0.0.1:9/")
    assert ClientSettings().resolve_token() == "from-file-token"
    monkeypatch.setenv("KITGATE_TOKEN", "from-env-token")
    settings = ClientSettings()
    assert settings.resolve_token() == "from-env-token"
    assert "from-env-token" not in repr(settings)
    client = KitgateClient()
    assert client.url == "http://127.0.0.1:9"
    assert "from-env-token" not in repr(client) and "token=set" in repr(client)
    client.close()


def test_bad_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITGATE_URL", "file:///etc/passwd")
    with pytest.raises(ValueError, match="http"):
        ClientSettings()


def test_sdk_imports_without_optional_extras() -> None:
    """LangChain and MCP are optional: the SDK and the tool logic must not import them."""
    import subprocess
    import sys

    code = ("import sys, kitgate.client, kitgate.client.sdk, kitgate.client.toolkit, kitgate.client.results\n"
            "bad = [m for m in ('langchain_core', 'mcp') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_malformed_token_is_refused_without_echo() -> None:
    with pytest.raises(TokenError) as ei:
        KitgateClient("http://127.0.0.1:9", "secret-part\r\nX-Injected: 1")
    assert "secret-part" not in str(ei.value)


def test_plain_http_to_a_remote_host_warns() -> None:
    with pytest.warns(UserWarning, match="plain HTTP"):
        KitgateClient("http://10.1.2.3:8750", "tok").close()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KitgateClient("http://127.0.0.1:8750", "tok").close()
        KitgateClient("https://10.1.2.3", "tok").close()
