"""The one token-file reader: every part of kitgate loads its token by the same rules, and says which rule a
file breaks without ever echoing the file's content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kitgate.protocol.tokens import MAX_TOKEN_BYTES, TokenError, read_token_file, token_file_is_private

SECRET = "kgt_live_secret_value"


def _file(tmp_path: Path, data: bytes, mode: int = 0o600, name: str = "t") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_one_token_with_a_trailing_newline_is_read(tmp_path: Path) -> None:
    assert read_token_file(_file(tmp_path, b"abc.def.ghi\n")) == "abc.def.ghi"
    assert read_token_file(_file(tmp_path, b"  abc.def.ghi \r\n", name="crlf")) == "abc.def.ghi"


def test_a_symlinked_secret_mount_is_followed(tmp_path: Path) -> None:
    real = _file(tmp_path, b"abc\n", name="real")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert read_token_file(link) == "abc"


@pytest.mark.parametrize(("data", "rule"), [
    (b"", "is empty"),
    (b"\n \n", "is empty"),
    (f"{SECRET} second-token".encode(), "exactly one token"),
    (f"{SECRET}\nsecond-line\n".encode(), "exactly one token"),
    (f"{SECRET}\u00e9".encode(), "not ASCII"),
    (b"\xff\xfe" + SECRET.encode(), "not ASCII"),
    (b"x" * (MAX_TOKEN_BYTES + 1), "larger than"),
])
def test_bad_contents_are_refused_by_rule_without_echoing_them(tmp_path: Path, data: bytes, rule: str) -> None:
    with pytest.raises(TokenError, match=rule) as info:
        read_token_file(_file(tmp_path, data))
    assert SECRET not in str(info.value) and "second" not in str(info.value)


def test_a_file_others_can_write_is_refused(tmp_path: Path) -> None:
    """Anyone could replace the token and make this process act under their identity."""
    path = _file(tmp_path, SECRET.encode(), mode=0o666)
    os.chmod(path, 0o666)  # the umask may have cut the mode at creation
    with pytest.raises(TokenError, match="writable by other users") as info:
        read_token_file(path)
    assert "chmod 600" in str(info.value) and SECRET not in str(info.value)


def test_a_readable_file_is_read_and_reported_as_not_private(tmp_path: Path) -> None:
    path = _file(tmp_path, SECRET.encode(), mode=0o644)
    assert read_token_file(path) == SECRET
    assert not token_file_is_private(path)
    assert token_file_is_private(_file(tmp_path, SECRET.encode(), mode=0o600, name="private"))


def test_not_a_regular_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # open() on a FIFO with no writer would block forever
    with pytest.raises(TokenError, match="not a regular file"):
        read_token_file(fifo)
    with pytest.raises(TokenError, match="not a regular file"):
        read_token_file(tmp_path)
    with pytest.raises(TokenError, match="cannot be read"):
        read_token_file(tmp_path / "missing")


def test_every_part_uses_this_reader(tmp_path: Path) -> None:
    """The CLI's worker command, the SDK settings and the Kit binding refuse the same file for the same rule."""
    from kitgate.client.config import ClientSettings

    two = _file(tmp_path, b"one two")
    with pytest.raises(TokenError, match="exactly one token"):
        ClientSettings(token_file=two).resolve_token()
    import typer

    from kitgate.cli.worker_cmds import _read_token

    with pytest.raises(typer.BadParameter, match="exactly one token"):
        _read_token(two)
