"""The offline commands against the shared store: `kitgate init`, `db migrate|status`, `token`, `apikey`,
`keys`, `audit verify` from "any machine" (another data dir, same KITGATE_DATABASE_URL and KITGATE_KEYS_DIR),
and `kitgate serve` refusing, in one line, a PostgreSQL it may not use.

Why real subprocesses on the real PostgreSQL: what an operator sees is the exit code and the lines on the
terminal, and both engines must give the same answers.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import jwt
import pytest
from harness import KITGATE, clean_env, run_kitgate

from kitgate.controller.security.keys import PURPOSES, KeyRing, KeysMissing


def _env(tmp_path: Path, pg_url: str | None = None) -> dict[str, str]:
    env = {"KITGATE_KEYS_DIR": str(tmp_path / "shared-keys")}
    if pg_url:
        env["KITGATE_DATABASE_URL"] = pg_url
    return env


def _state(tmp_path: Path) -> dict[str, object]:
    """Everything init may create, to compare before and after a second run."""
    keys = tmp_path / "shared-keys"
    return {
        "keys": sorted(p.name for p in keys.glob("*.pem")) if keys.is_dir() else [],
        "admin_files": sorted(str(p) for p in tmp_path.glob("*/admin.token")),
    }


def _admins(tmp_path: Path, env: dict[str, str], data_dir: str) -> list[dict[str, object]]:
    listed = json.loads(run_kitgate(["token", "list", "--json", "--data-dir", data_dir], env=env).stdout)
    return [t for t in listed if "admin" in t["scopes"]]


# ---- keys ----------------------------------------------------------------------------------------------
def test_a_replica_never_creates_keys_and_says_how_to(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "nowhere")
    with pytest.raises(KeysMissing) as missing:
        ring.load(create=False)
    assert str(tmp_path / "nowhere") in str(missing.value) and "kitgate init" in str(missing.value)
    assert not (tmp_path / "nowhere").exists()  # only read, never made
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeysMissing, match="has no .* signing key"):
        KeyRing(tmp_path / "empty").load(create=False)


def test_a_key_rotated_elsewhere_verifies_at_once_but_signs_only_after_a_restart(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    from kitgate.controller.security import keys as keys_mod

    replica = KeyRing(tmp_path / "k")
    replica.load(create=True)
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "k").glob("*.pem")) == sorted(PURPOSES)
    signing = replica.active("envelope")
    operator = KeyRing(tmp_path / "k")
    operator.load(create=False)
    rotated = operator.rotate("envelope")
    monkeypatch.setattr(keys_mod, "_REFRESH_EVERY_S", 0.0)  # the re-read is rate-limited; not what is tested here
    assert replica.verifying_key("envelope", rotated.kid) is not None  # an unknown kid re-reads the shared dir
    assert replica.active("envelope").kid == signing.kid  # ... but whoever sent that kid moves no signing key
    assert [k["kid"] for k in replica.jwks("envelope")["keys"]] == [signing.kid, rotated.kid]
    restarted = KeyRing(tmp_path / "k")
    restarted.load(create=False)
    assert restarted.active("envelope").kid == rotated.kid


# ---- init ----------------------------------------------------------------------------------------------
def test_init_on_sqlite_creates_keys_and_admin_once(tmp_path: Path) -> None:
    env = _env(tmp_path)
    data = str(tmp_path / "data")
    first = run_kitgate(["init", "--data-dir", data], env=env)
    admin_file = tmp_path / "data" / "admin.token"
    assert f"wrote the first admin token to {admin_file}" in first.stdout
    assert stat.S_IMODE(os.stat(admin_file).st_mode) == 0o600
    token = admin_file.read_text().strip()
    assert token not in first.stdout + first.stderr
    before = _state(tmp_path)
    assert len(before["keys"]) == len(PURPOSES)  # type: ignore[arg-type]
    second = run_kitgate(["init", "--data-dir", data], env=env)
    assert "already initialised" in second.stdout and "nothing changed" in second.stdout
    assert _state(tmp_path) == before and admin_file.read_text().strip() == token
    assert len(_admins(tmp_path, env, data)) == 1


def test_init_on_postgres_needs_migrations_then_runs_once_for_every_replica(tmp_path: Path, pg_url: str) -> None:
    env = _env(tmp_path, pg_url)
    refused = run_kitgate(["init", "--data-dir", str(tmp_path / "a")], env=env, check=False)
    assert refused.returncode == 2 and "kitgate db migrate" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert not (tmp_path / "shared-keys").exists()  # nothing half-made
    run_kitgate(["db", "migrate"], env=env)
    first = run_kitgate(["init", "--data-dir", str(tmp_path / "a")], env=env)
    assert "signing key(s)" in first.stdout and (tmp_path / "a" / "admin.token").exists()
    before = _state(tmp_path)
    # a second machine: its own data dir, the same database and key dir
    second = run_kitgate(["init", "--data-dir", str(tmp_path / "b")], env=env)
    assert "already initialised" in second.stdout
    assert _state(tmp_path) == before and not (tmp_path / "b" / "admin.token").exists()
    assert len(_admins(tmp_path, env, str(tmp_path / "b"))) == 1


# ---- db migrate / status -------------------------------------------------------------------------------
def test_db_migrate_then_status_never_shows_the_password(tmp_path: Path, pg_url: str) -> None:
    # trust authentication ignores the password, so it can be one nobody should ever see printed
    secret = "s3cret-never-printed"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@", 1)
    assert secret in url
    env = _env(tmp_path, url)
    before = run_kitgate(["db", "status"], env=env, check=False)
    assert before.returncode == 1 and "schema version 0" in before.stdout and "kitgate db migrate" in before.stdout
    migrated = run_kitgate(["db", "migrate"], env=env)
    assert "applied 0001_" in migrated.stdout and "up to date" in migrated.stdout
    again = run_kitgate(["db", "migrate"], env=env)
    assert "no migration to apply" in again.stdout
    after = run_kitgate(["db", "status"], env=env)
    assert "engine postgres" in after.stdout and "up to date" in after.stdout
    for out in (before, migrated, again, after):
        assert secret not in out.stdout + out.stderr and "***" in out.stdout


def test_db_migrate_and_status_on_sqlite(tmp_path: Path) -> None:
    env = _env(tmp_path)
    missing = run_kitgate(["db", "status", "--data-dir", str(tmp_path / "d")], env=env, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    out = run_kitgate(["db", "migrate", "--data-dir", str(tmp_path / "d")], env=env)
    assert "engine sqlite" in out.stdout and "up to date" in out.stdout
    assert "up to date" in run_kitgate(["db", "status", "--data-dir", str(tmp_path / "d")], env=env).stdout


# ---- serve refuses what it may not fix ------------------------------------------------------------------
def _serve(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    import subprocess

    proc = subprocess.run([KITGATE, "serve", "--port", "0", "--data-dir", str(tmp_path / "replica")],
                          env=clean_env(env), capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr


def test_serve_on_an_unmigrated_postgres_exits_2_with_one_line(tmp_path: Path, pg_url: str) -> None:
    code, stderr = _serve(tmp_path, _env(tmp_path, pg_url))
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert "schema is at version 0" in stderr and "kitgate db migrate" in stderr
    run_kitgate(["db", "migrate"], env=_env(tmp_path, pg_url))
    code, stderr = _serve(tmp_path, _env(tmp_path, pg_url))  # migrated, but nobody ran `kitgate init`
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "kitgate init" in stderr and "KITGATE_KEYS_DIR" in stderr
    assert not (tmp_path / "shared-keys").exists()


def test_serve_on_a_newer_schema_exits_2_with_one_line(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    from kitgate.controller.pg import migrate

    env = _env(tmp_path, pg_url)
    run_kitgate(["db", "migrate"], env=env)
    run_kitgate(["init", "--data-dir", str(tmp_path / "ops")], env=env)
    newer = migrate.EXPECTED + 1
    with psycopg.connect(pg_url, autocommit=True) as conn:  # what a later kitgate's `db migrate` leaves behind
        conn.execute(f"INSERT INTO {migrate.TABLE}(version, name, checksum) VALUES (%s, %s, %s)",  # noqa: S608
                     (newer, f"{newer:04d}_from_the_future.sql", "0" * 64))
    code, stderr = _serve(tmp_path, env)
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert f"({newer} > {migrate.EXPECTED})" in stderr and "upgrade kitgate" in stderr
    status = run_kitgate(["db", "status"], env=env, check=False)
    assert status.returncode == 1 and "newer than this kitgate" in status.stdout


def test_two_replicas_with_their_own_data_dirs_accept_the_same_credentials(tmp_path: Path, pg_url: str) -> None:
    from harness import FAST_ENV, ControllerProcess

    env = {**FAST_ENV, **_env(tmp_path, pg_url)}
    run_kitgate(["db", "migrate"], env=env)
    run_kitgate(["init", "--data-dir", str(tmp_path / "ops")], env=env)
    admin = (tmp_path / "ops" / "admin.token").read_text().strip()
    with ControllerProcess(tmp_path / "a", env) as a, ControllerProcess(tmp_path / "b", env) as b:
        assert not (a.data_dir / "admin.token").exists() and not (b.data_dir / "admin.token").exists()
        reader = a.mint_token("jobs:read")  # minted in the shared store through replica a's settings
        key = run_kitgate(["apikey", "create", "--scope", "jobs:read", "--sub", "ci"], env=env).stdout.strip()
        for replica in (a, b):
            for credential in (admin, reader, key):
                with replica.client(credential) as c:
                    assert c.get("/v1/jobs").status_code == 200, (replica.url, credential[:12])
        jti = jwt.decode(reader, options={"verify_signature": False})["jti"]
        run_kitgate(["token", "revoke", jti], env=env)
        for replica in (a, b):  # a revocation made from a third "machine" applies on every replica at once
            with replica.client(reader) as c:
                assert c.get("/v1/jobs").status_code == 401


# ---- credentials from any machine ---------------------------------------------------------------------
def test_credentials_and_audit_work_from_any_machine_on_postgres(tmp_path: Path, pg_url: str) -> None:
    env = _env(tmp_path, pg_url)
    run_kitgate(["db", "migrate"], env=env)
    run_kitgate(["init", "--data-dir", str(tmp_path / "ops")], env=env)
    here, there = ["--data-dir", str(tmp_path / "machine-a")], ["--data-dir", str(tmp_path / "machine-b")]
    token = run_kitgate(["token", "create", "--scope", "jobs:read", "--sub", "reader", "--ttl", "1h", *here],
                        env=env).stdout.strip()
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    listed = {t["jti"]: t for t in json.loads(run_kitgate(["token", "list", "--json", *there], env=env).stdout)}
    assert listed[jti]["sub"] == "reader" and listed[jti]["revoked_at"] is None
    assert "revoked" in run_kitgate(["token", "revoke", jti, *there], env=env).stdout
    listed = {t["jti"]: t for t in json.loads(run_kitgate(["token", "list", "--json", *here], env=env).stdout)}
    assert listed[jti]["revoked_at"] is not None
    again = run_kitgate(["token", "revoke", jti, *here], env=env, check=False)
    assert again.returncode == 1

    key = run_kitgate(["apikey", "create", "--scope", "jobs:submit", "--sub", "ci", *here], env=env).stdout.strip()
    key_id = key.split("_")[1]
    keys = {k["id"]: k for k in json.loads(run_kitgate(["apikey", "list", "--json", *there], env=env).stdout)}
    assert keys[key_id]["sub"] == "ci"
    run_kitgate(["apikey", "revoke", key_id, *there], env=env)

    new_kid = run_kitgate(["keys", "rotate", "token", *there], env=env).stdout.strip().rsplit(" ", 1)[1]
    assert any(p.name.endswith(f"-{new_kid}.pem") for p in (tmp_path / "shared-keys").glob("token-*.pem"))
    newer = run_kitgate(["token", "create", "--scope", "jobs:read", *here], env=env).stdout.strip()
    assert jwt.get_unverified_header(newer)["kid"] == new_kid

    verified = run_kitgate(["audit", "verify", *here], env=env)
    assert "audit chain intact" in verified.stdout
    # init's admin, the reader and its revocation, the key and its revocation, the rotation, the second token
    assert int(verified.stdout.split("intact: ")[1].split(" ")[0]) >= 7
    assert not (tmp_path / "machine-a").exists() and not (tmp_path / "machine-b").exists()  # no local state


def test_create_token_mints_in_the_shared_store(tmp_path: Path, pg_url: str) -> None:
    from kitgate.controller.security import create_token

    env = _env(tmp_path, pg_url)
    run_kitgate(["db", "migrate"], env=env)
    run_kitgate(["init", "--data-dir", str(tmp_path / "ops")], env=env)
    token = create_token(tmp_path / "elsewhere", ["worker"], sub="w-1", ttl_s=600, env=env)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - time.time() <= 600
    listed = {t["jti"]: t for t in json.loads(run_kitgate(["token", "list", "--json"], env=env).stdout)}
    assert listed[claims["jti"]]["sub"] == "w-1" and listed[claims["jti"]]["scopes"] == ["worker"]
